import { ArgsType, Field, Int } from "type-graphql";
import type { PagingArguments } from "../pagination/keyset-page.js";

/** Relay's paging arguments of every connection. */
@ArgsType()
export class PagingArgs implements PagingArguments {
  @Field(() => Int, { nullable: true, description: "Newest first: this many items (0..100, default 100) after `after`." })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: "This many items (0..100) just newer than `before`." })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}
