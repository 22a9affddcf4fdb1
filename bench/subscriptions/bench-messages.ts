/** What the benchmark's processes tell each other over IPC: orchestrator -> scenario (gateway) -> subscribers. */

export interface SubscriptionRequest {
  query: string;
  variables?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  subscribers: number;
  sockets: number;
  /** Each subscriber on a session of its own; otherwise every subscriber sees every change of the project. */
  perSession: boolean;
  /** Each subscriber a document of its own: what a plain graphql-ws server executes anyway. */
  distinctDocuments: boolean;
  events: number;
  warmupEvents: number;
  /** `bare-ws`: no gateway, a plain ws server writes one prepared message to every socket (the floor). */
  target: "gateway" | "bare-ws";
}

export interface Outcome {
  /** Publish (right after the commit) -> arrival at a subscriber, ms, one per delivery. */
  latencies: number[];
  /** Duration of the service call that commits and publishes, ms, one per event. */
  commitCalls: number[];
  /** Distinct executions per event. */
  groups: number;
  /** Growth of the gateway process's RSS with the subscribers connected, bytes per subscriber. */
  rssPerSubscriber: number;
}

export type DriverMessage =
  /** Open `sockets` connections and spread the subscriptions over them, round robin. */
  | { type: "open"; url: string; apiKey: string; sockets: number; subscriptions: SubscriptionRequest[] }
  /** Report once `count` more results have arrived. */
  | { type: "expect"; count: number }
  | { type: "close" };

export type SubscriberMessage =
  | { type: "opened" }
  /** Arrival times (process.hrtime in ms, one clock for all processes) by session id, for the results expected. */
  | { type: "received"; arrivals: Array<[sessionId: string, at: number]>; errors: number }
  | { type: "closed" };
