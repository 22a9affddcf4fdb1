import { registerEnumType } from "type-graphql";

/** GraphQL names the statuses in capitals; the values are the service's own, so no mapping is needed. */
export enum VerifySessionStatus {
  PENDING = "pending",
  VERIFIED = "verified",
  FAILED = "failed",
  EXPIRED = "expired",
}

export enum CollectSessionStatus {
  PENDING = "pending",
  COMPLETED = "completed",
  EXPIRED = "expired",
}

registerEnumType(VerifySessionStatus, { name: "VerifySessionStatus", description: "Status of a verify session." });
registerEnumType(CollectSessionStatus, { name: "CollectSessionStatus", description: "Status of a collect session." });
