// Generated from webview_bridge/bridge_events.schema.json by json-schema-to-typescript: do not edit.
// Regenerate with: node_modules/.bin/json2ts -i webview_bridge/bridge_events.schema.json -o sdk/typescript/bridge-events.d.ts --unknownAny

/**
 * A message the WebView pages post to the native host (static/bridge.js). To webkit.messageHandlers.webviewBridge, window.WebViewBridgeAndroid and window.ReactNativeWebView it is sent as a JSON string; to window.parent (an embedding page at the app's --embed-origin) as an object.
 */
export type BridgeMessage =
  | OpenMessage
  | SelectBankMessage
  | OpenExternalMessage
  | ConsentGrantedMessage
  | ConsentDeniedMessage
  | ErrorMessage
  | ExitMessage;
/**
 * Always "webview-bridge": tells these messages from any other the host receives.
 */
export type MessageType = "webview-bridge";
/**
 * The token request the page belongs to (rq_…), or null on pages outside a request (the TPP helper's own pages).
 */
export type RequestId = string | null;

/**
 * A screen where the customer starts has loaded: the bank selection, or the activation screen.
 */
export interface OpenMessage {
  type: MessageType;
  event: "OPEN";
  request_id: RequestId;
  data: OpenData;
}
export interface OpenData {}
/**
 * The customer tapped a bank on the selection screen (sent on the tap, before the choice is posted).
 */
export interface SelectBankMessage {
  type: MessageType;
  event: "SELECT_BANK";
  request_id: RequestId;
  data: SelectBankData;
}
export interface SelectBankData {
  /**
   * The chosen bank's id, as GET /banks lists it.
   */
  bank_id: string;
}
/**
 * The customer tapped "Continue in your bank's app" for a bank whose login opens outside the WebView. The page does not navigate: the host opens data.url outside the WebView (the bank's app through its universal link or App Link, else the system browser).
 */
export interface OpenExternalMessage {
  type: MessageType;
  event: "OPEN_EXTERNAL";
  request_id: RequestId;
  data: OpenExternalData;
}
export interface OpenExternalData {
  /**
   * The bank's authorisation URL.
   */
  url: string;
}
/**
 * The customer tapped Allow on the consent screen. The flow goes on at the bank; the outcome arrives as the redirect to the TPP's redirect URL.
 */
export interface ConsentGrantedMessage {
  type: MessageType;
  event: "CONSENT_GRANTED";
  request_id: RequestId;
  data: ConsentGrantedData;
}
export interface ConsentGrantedData {}
/**
 * The customer tapped Deny on the consent screen, or Decline on the activation screen. The redirect to the TPP with error=access_denied follows.
 */
export interface ConsentDeniedMessage {
  type: MessageType;
  event: "CONSENT_DENIED";
  request_id: RequestId;
  data: ConsentDeniedData;
}
export interface ConsentDeniedData {}
/**
 * A screen that ends the flow without an answer for the TPP has loaded: the link is unknown or expired, a bank login was already used, the bank is unavailable, or the TPP helper refused a callback.
 */
export interface ErrorMessage {
  type: MessageType;
  event: "ERROR";
  request_id: RequestId;
  data: ErrorData;
}
export interface ErrorData {
  /**
   * What went wrong, where the page knows: "bank_unavailable" from the server; on the TPP helper's pages the problem's title ("Link expired", "Already used", …). Absent on the unknown, expired and stale-login screens. Treat any other value as a generic error.
   */
  code?: string;
}
/**
 * The customer is done here: they tapped Cancel on the bank selection, the way back to the app on an end screen, or Close on the TPP helper's page; or the "already finished" screen or the TPP helper's done page loaded. The host may close the WebView.
 */
export interface ExitMessage {
  type: MessageType;
  event: "EXIT";
  request_id: RequestId;
  data: ExitData;
}
/**
 * Empty, except on the TPP helper's done page, which carries the outcome.
 */
export interface ExitData {
  /**
   * The token the customer granted (tt_…), or null.
   */
  token_id?: string | null;
  /**
   * Why no token was granted (access_denied, request_expired, bank_unavailable, server_error), or null.
   */
  error?: string | null;
}
