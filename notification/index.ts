/**
 * The notification program's face: what the CLI, the bench and the demo use. Today it serves
 * webhook Receivers (Flux's notification-controller); Providers and Alerts will join it.
 */
export { startNotification, DEFAULT_RECEIVER_ADDRESS, type NotificationOptions, type RunningNotification } from './main.ts';
/** The path a Receiver is served at, for callers that know the token (tests, the demo, the CLI). */
export { webhookPath } from './receivers/verify.ts';
