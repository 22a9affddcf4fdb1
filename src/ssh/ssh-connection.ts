import type { ClientInfo, Connection, ServerChannel, Session } from "ssh2";
import type { Config } from "../config.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Logger } from "../logger.js";
import type { SshLoginsService } from "../services/ssh-logins.service.js";
import { verificationOf } from "./connection-outcome.js";
import { LoginFlow } from "./login-flow.js";
import type { ConnectionResult } from "./login-texts.js";
import { presentResult } from "./session-channel.js";
import type { ConnectionDeadlines } from "./socket-admission.js";
import { isOutOfOrderAuthAnswer, sendAuthBanner } from "./ssh2-internals.js";

export interface ConnectionContext {
  logins: SshLoginsService;
  config: Config;
  logger: Logger;
  /** The client's address as the accept loop determined it. */
  ipAddress: string;
  deadlines: ConnectionDeadlines;
  metrics: GatewayMetrics;
}

/**
 * One SSH connection, as a chain of steps: banner and authentication (LoginFlow) -> session channel
 * (message, confirmation, result) -> disconnect. Port forwarding (`tcpip`, `openssh.streamlocal`, global
 * `tcpip-forward` requests), agent forwarding, X11 and subsystems such as sftp get no handler, so ssh2
 * 1.17.0 refuses them ("administratively prohibited" / request failure).
 * Resolves once the connection has closed and its outcome is recorded, with what it achieved.
 */
export function serveConnection(connection: Connection, info: ClientInfo, context: ConnectionContext): Promise<ConnectionResult> {
  const { config, logger, deadlines } = context;
  const startedAt = performance.now();
  let authenticatedAt: number | null = null;
  const log = logger.child({ ip: context.ipAddress, clientVersion: info.header.identRaw });
  const flow = new LoginFlow(context.logins, {
    ipAddress: context.ipAddress,
    clientVersion: info.header.identRaw,
    maxKeyOffers: config.sshMaxKeyOffers,
    sendBanner: (text) => sendAuthBanner(connection, text),
    onKeyOfferCap: (event) => {
      if (event === "reached") {
        log.info({ reason: "key_offer_cap" }, "SSH key offers refused from now on: SSH_MAX_KEY_OFFERS reached");
        context.metrics.recordSshRefusal("key_offer_cap");
        return;
      }
      log.warn({ reason: "key_offer_cap" }, "SSH connection closed: the client offered keys past SSH_MAX_KEY_OFFERS");
      connection.end();
    },
  });
  const confirmationTimedOut = () => {
    log.info({ reason: "confirm_timeout" }, "SSH confirmation not answered within SSH_CONFIRM_TIMEOUT_SECONDS");
    context.metrics.recordSshRefusal("confirm_timeout");
  };
  const fail = (error: unknown) => {
    if (isOutOfOrderAuthAnswer(error)) {
      log.warn({ reason: "pipelined_auth" }, "SSH connection closed: the client sent authentication requests without waiting for the answers");
      context.metrics.recordSshRefusal("pipelined_auth");
    } else {
      log.error({ err: error }, "SSH login failed");
    }
    connection.end();
  };
  let confirmTimer: NodeJS.Timeout | null = null;
  let presenting = false;

  connection.on("error", (error) => log.debug({ err: error }, "SSH connection error"));
  connection.on("authentication", (request) => {
    deadlines.touch();
    flow.authenticate(request).catch(fail);
  });
  connection.once("ready", () => {
    authenticatedAt = performance.now();
    deadlines.authenticate();
    deadlines.touch();
    // Without a session channel (ssh -N) the prompt never shows: the answer is then silence.
    if (flow.awaitsConfirmation) {
      confirmTimer = setTimeout(() => {
        if (presenting) return;
        confirmationTimedOut();
        flow.confirm("timed-out").then(() => connection.end(), fail);
      }, config.sshConfirmTimeoutSeconds * 1000);
    }
  });
  connection.on("session", (accept) => {
    deadlines.touch();
    const session = accept();
    let pty = false;
    const present = (channel: ServerChannel) => {
      deadlines.touch();
      if (presenting) {
        channel.exit(1);
        channel.end();
        return;
      }
      presenting = true;
      if (confirmTimer) clearTimeout(confirmTimer);
      if (flow.awaitsConfirmation) deadlines.pauseIdle();
      channel.on("error", (error: Error) => log.debug({ err: error }, "SSH channel error"));
      channel.once("close", () => connection.end());
      presentResult(channel, flow, {
        pty,
        confirmTimeoutMs: config.sshConfirmTimeoutSeconds * 1000,
        onConfirmationTimeout: confirmationTimedOut,
      }).catch(fail);
    };
    onSessionRequests(session, {
      pty: () => {
        pty = true;
      },
      shellOrExec: present,
    });
  });
  return new Promise<ConnectionResult>((resolve) => {
    connection.once("close", () => {
      deadlines.clear();
      if (confirmTimer) clearTimeout(confirmTimer);
      const closedAt = performance.now();
      flow
        .finish()
        .then(() => log.info({ result: flow.result().kind }, "SSH connection closed"))
        .catch((error: unknown) => log.error({ err: error }, "SSH connection outcome not recorded"))
        .finally(() => {
          const result = flow.result();
          const verification = verificationOf(result);
          // Accepted: up to the accepting answer (a must_confirm prompt's wait is the person's). Refused: until the client gave up.
          const endedAt = verification?.outcome === "satisfied" ? (authenticatedAt ?? closedAt) : closedAt;
          if (verification) context.metrics.recordVerification(verification.kind, verification.outcome, (endedAt - startedAt) / 1000);
          resolve(result);
        });
    });
  });
}

/** A pty is granted (the prompt reads one key press); shell and exec only ever show the result. */
function onSessionRequests(session: Session, handlers: { pty(): void; shellOrExec(channel: ServerChannel): void }) {
  session.on("pty", (accept) => {
    handlers.pty();
    accept?.();
  });
  session.on("window-change", (accept) => accept?.());
  session.on("env", (accept) => accept?.());
  session.on("shell", (accept) => handlers.shellOrExec(accept()));
  session.on("exec", (accept) => handlers.shellOrExec(accept())); // the command is never run
}
