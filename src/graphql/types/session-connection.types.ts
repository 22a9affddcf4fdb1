import type { SessionView } from "../../services/session-views.js";
import { type Connection, connectionType } from "./connection.types.js";
import { CollectSession, VerifySession } from "./session.types.js";

export type SessionConnection = Connection<SessionView>;

const TOTAL_COUNT = "Every session that matches the filter, whatever the page.";

export const VerifySessionConnection = connectionType<SessionView>("VerifySession", VerifySession, TOTAL_COUNT);
export const CollectSessionConnection = connectionType<SessionView>("CollectSession", CollectSession, TOTAL_COUNT);
