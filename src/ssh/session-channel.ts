import type { ServerChannel } from "ssh2";
import type { ConfirmationAnswer, LoginFlow } from "./login-flow.js";
import { CONFIRM_PROMPT, CONFIRM_TIMED_OUT, exitCodeOf, NOT_CONFIRMED, resultLine } from "./login-texts.js";

export interface PresentOptions {
  /** With a pty the client's terminal is raw: lines end in CRLF and one key press answers the prompt. */
  pty: boolean;
  confirmTimeoutMs: number;
  /** The person did not answer the prompt within the confirmation timeout. */
  onConfirmationTimeout(): void;
}

/** A line typed without a pty longer than this is not a `y`. */
const MAX_ANSWER_CHARS = 256;

/**
 * What a shell or exec request gets, whatever the command: the session's message, the confirmation
 * prompt when must_confirm, then the one-line result and the exit status (0 verified/collected, else 1).
 */
export async function presentResult(channel: ServerChannel, flow: LoginFlow, options: PresentOptions): Promise<void> {
  const write = (text: string) => {
    if (channel.writable) channel.write(options.pty ? text.replace(/\r?\n/g, "\r\n") : text);
  };
  const message = flow.message;
  if (message) write(message.endsWith("\n") ? message : `${message}\n`);
  if (flow.awaitsConfirmation) {
    write(CONFIRM_PROMPT);
    const answer = await readConfirmation(channel, options);
    if (answer === "timed-out") options.onConfirmationTimeout();
    // A raw (pty) terminal does not echo the key press; a cooked one already echoed the line.
    write(options.pty && answer === "confirmed" ? "y\n" : "\n");
    await flow.confirm(answer);
    if (answer !== "confirmed") write(`${answer === "declined" ? NOT_CONFIRMED : CONFIRM_TIMED_OUT}\n`);
  }
  const result = flow.result();
  write(`${resultLine(result)}\n`);
  if (channel.writable) channel.exit(exitCodeOf(result));
  channel.end();
}

/** One key press with a pty, one line without; `y` (or `Y`) confirms, anything else or silence does not. */
export function readConfirmation(channel: ServerChannel, options: PresentOptions): Promise<ConfirmationAnswer> {
  return new Promise((resolve) => {
    let typed = "";
    const finish = (answer: ConfirmationAnswer) => {
      clearTimeout(timer);
      channel.off("data", onData);
      channel.off("end", onEnd);
      channel.off("close", onEnd);
      resolve(answer);
    };
    const answerOf = (text: string): ConfirmationAnswer => (text.trim().toLowerCase() === "y" ? "confirmed" : "declined");
    const onData = (data: Buffer) => {
      typed += data.toString("utf8");
      if (options.pty) return finish(answerOf(typed.slice(0, 1)));
      const newline = typed.indexOf("\n");
      if (newline >= 0) return finish(answerOf(typed.slice(0, newline)));
      if (typed.length > MAX_ANSWER_CHARS) finish("declined");
    };
    // Without a pty, `y` then end of input (printf y | ssh ...) is an answer too.
    const onEnd = () => finish(options.pty ? "declined" : answerOf(typed));
    const timer = setTimeout(() => finish("timed-out"), options.confirmTimeoutMs);
    channel.on("data", onData);
    channel.once("end", onEnd);
    channel.once("close", onEnd);
  });
}
