// Two node-redis connections (commands, and a subscriber: a subscribed connection can run
// nothing else) tuned for a cache that must never hold a request hostage:
// - commands fail at once while disconnected (no offline queue) and after commandTimeoutMs
//   when Redis hangs, so a request falls through to the upstream instead of waiting;
// - the client reconnects by itself forever, with a short capped backoff;
// - start-up never waits for an unreachable Redis: the gateway serves without it.
import { createClient, type RedisClientType } from '@keyv/redis';
import type { StoreHealth } from './store-health.js';

export type RedisClient = RedisClientType;

export interface RedisConnectionOptions {
  url: string;
  commandTimeoutMs: number;
  health: StoreHealth;
  channel: string;
  onMessage(raw: string): void;
  /** The command connection is (again) ready. */
  onReady(): void;
  /** The subscriber is (again) subscribed: messages sent while it was away are lost. */
  onSubscribed(): void;
}

export interface RedisConnection {
  client: RedisClient;
  subscriber: RedisClient;
  /** Resolves once both are ready, or at the first connection error (degraded start), or after startupWaitMs. */
  started: Promise<void>;
  close(): Promise<void>;
}

// Capped so that a Redis back after an outage is used again within about a second.
const backoff = (retries: number) => Math.min(50 * 2 ** retries, 1_000) + Math.floor(Math.random() * 100);
const STARTUP_WAIT_MS = 3_000;

export function openRedis(options: RedisConnectionOptions): RedisConnection {
  const { health } = options;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs },
    socket: { connectTimeout: 2_000, reconnectStrategy: backoff },
  });
  const subscriber = client.duplicate();

  let firstError!: () => void;
  const failed = new Promise<void>((resolve) => (firstError = resolve));
  // node-redis emits 'error' on every failed reconnect; without a listener it would crash the process.
  client.on('error', (err: unknown) => {
    health.fail('connect', err);
    firstError();
  });
  subscriber.on('error', (err: unknown) => {
    health.fail('subscribe', err);
    firstError();
  });
  client.on('ready', () => {
    health.ok();
    options.onReady();
  });

  let subscribed = false;
  const onMessage = (message: string) => options.onMessage(message);
  subscriber.on('ready', () => {
    // node-redis re-subscribes on reconnect before 'ready'; the first subscription is ours to make.
    if (subscribed) options.onSubscribed();
  });

  const both = Promise.all([
    client.connect(),
    subscriber.connect().then(async () => {
      if (!subscriber.isOpen) return; // closed before it ever connected
      await subscriber.subscribe(options.channel, onMessage);
      subscribed = true;
      options.onSubscribed();
    }),
  ]);
  both.catch((err: unknown) => health.fail('subscribe', err));

  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, STARTUP_WAIT_MS);
    timer.unref();
  });
  const started = Promise.race([both.then(() => undefined, () => undefined), failed, waited]).finally(() => clearTimeout(timer));

  let closing: Promise<void> | undefined;
  return {
    client,
    subscriber,
    started,
    close() {
      closing ??= (async () => {
        clearTimeout(timer);
        for (const c of [subscriber, client]) {
          if (!c.isOpen) continue;
          // close() lets in-flight replies arrive; destroy() stops a reconnect loop at once.
          try {
            if (c.isReady && c === client) await c.close();
            else c.destroy();
          } catch {
            // Already closed by the other branch: nothing left to release.
          }
        }
      })();
      return closing;
    },
  };
}
