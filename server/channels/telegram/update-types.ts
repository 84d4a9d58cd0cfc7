/**
 * The Telegram update types the service handles (server/gate/chat-updates.ts): the long poller
 * asks for these, and `npm run webhooks -- set` registers the webhook with them.
 */
export const TELEGRAM_UPDATES = ['message', 'callback_query'];
