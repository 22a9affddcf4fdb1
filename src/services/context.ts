/** Who is calling: every service method that reads or writes sessions takes this first. */
export interface RequestContext {
  readonly projectId: string;
  readonly apiKeyId: string;
}
