import { Field, Int, InterfaceType, ObjectType } from "type-graphql";
import { Node, sessionTypeName } from "./node.types.js";
import { CollectSessionStatus, VerifySessionStatus } from "./session-status.types.js";
import { SshConnection } from "./session-part.types.js";
import { Webhook } from "./webhook.types.js";

@InterfaceType({ implements: Node, resolveType: sessionTypeName, description: "What verify and collect sessions share." })
export abstract class Session extends Node {
  @Field({ description: "The SSH user name that routes a connection to this session." })
  connectionIdentifier: string;

  @Field({ description: "The command the person runs, e.g. `ssh -p 2222 <connectionIdentifier>@<host>`." })
  sshCommand: string;

  @Field(() => String, { nullable: true })
  externalId: string | null;

  @Field()
  multiConnection: boolean;

  @Field()
  multiKey: boolean;

  @Field()
  mustConfirm: boolean;

  @Field(() => String, { nullable: true })
  sshBanner: string | null;

  @Field(() => String, { nullable: true })
  sshMessage: string | null;

  @Field(() => Date, { nullable: true, description: "Past this time a pending session reads as EXPIRED." })
  expiredAt: Date | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;

  @Field(() => [SshConnection])
  connections: SshConnection[];

  @Field(() => [Webhook])
  webhooks: Webhook[];
}

@ObjectType({ implements: [Node, Session], simpleResolvers: true, description: "Proves that a person holds one (or all) of its keys." })
export class VerifySession extends Session {
  @Field(() => VerifySessionStatus)
  status: VerifySessionStatus;

  @Field()
  matchAllKeys: boolean;

  @Field(() => Int)
  maxAttempts: number;
}

@ObjectType({ implements: [Node, Session], simpleResolvers: true, description: "Collects the public keys a person's SSH client holds." })
export class CollectSession extends Session {
  @Field(() => CollectSessionStatus)
  status: CollectSessionStatus;
}
