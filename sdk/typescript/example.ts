// How a host reads the bridge's messages with the generated types. The type checker holds this
// file to bridge-events.d.ts, so a message shape that changes without this file changing fails it.
import type { BridgeMessage } from "./bridge-events";

/** Every event name, once: `satisfies` refuses a missing or an unknown one. */
const EVENTS = {
  OPEN: true,
  SELECT_BANK: true,
  OPEN_EXTERNAL: true,
  CONSENT_GRANTED: true,
  CONSENT_DENIED: true,
  ERROR: true,
  EXIT: true,
} as const satisfies Record<BridgeMessage["event"], true>;

/** A bridge message from what a channel received: a JSON string from a native channel, an object
 * from an embedding page's message event. Anything else is not ours: null. */
export function parseBridgeMessage(received: unknown): BridgeMessage | null {
  let value: unknown = received;
  if (typeof received === "string") {
    try {
      value = JSON.parse(received);
    } catch {
      return null;
    }
  }
  if (typeof value !== "object" || value === null) return null;
  const candidate = value as { type?: unknown; event?: unknown };
  if (candidate.type !== "webview-bridge" || typeof candidate.event !== "string") return null;
  return Object.hasOwn(EVENTS, candidate.event) ? (value as BridgeMessage) : null;
}

/** What the app does with the flow. */
export interface Host {
  openOutside(url: string): void;
  close(outcome: { tokenId: string | null; error: string | null }): void;
  track(event: BridgeMessage["event"], requestId: string | null, detail?: string): void;
}

export function handle(message: BridgeMessage, host: Host): void {
  switch (message.event) {
    case "OPEN":
    case "CONSENT_GRANTED":
    case "CONSENT_DENIED":
      host.track(message.event, message.request_id);
      return;
    case "SELECT_BANK":
      host.track(message.event, message.request_id, message.data.bank_id);
      return;
    case "OPEN_EXTERNAL":
      host.openOutside(message.data.url);
      return;
    case "ERROR":
      host.track(message.event, message.request_id, message.data.code ?? "unknown");
      return;
    case "EXIT":
      host.close({ tokenId: message.data.token_id ?? null, error: message.data.error ?? null });
      return;
    default: {
      const unhandled: never = message;
      throw new Error(`unhandled bridge message ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A web page that embeds the flow in an iframe (the app's --embed-origin) listens like this. */
export function listen(bridgeOrigin: string, host: Host): () => void {
  const onMessage = (event: MessageEvent<unknown>): void => {
    if (event.origin !== bridgeOrigin) return;
    const message = parseBridgeMessage(event.data);
    if (message !== null) handle(message, host);
  };
  window.addEventListener("message", onMessage);
  return () => window.removeEventListener("message", onMessage);
}
