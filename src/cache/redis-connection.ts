// Two node-redis connections (commands, and a subscriber: a subscribed connection can run
// nothing else) tuned for a cache that must never hold a request hostage:
// - commands fail at once while disconnected (no offline queue), so a request falls through
//   to the upstream instead of waiting (a Redis that hangs is cut off in redis-store.ts);
// - the client reconnects by itself forever, with a short capped backoff;
// - start-up never waits for an unreachable Redis: the gateway serves without it.
import { createClient, type RedisClientType } from '@keyv/redis';
import type { StoreHealth } from './store-health.js';

export type RedisClient = RedisClientType;

export interface RedisConnectionOptions {
  url: string;
  /** CLIENT SETNAME of both connections ('-sub' appended for the subscriber), for CLIENT LIST. */
  name: string;
  commandTimeoutMs: number;
  health: StoreHealth;
  channel: string;
  onMessage(raw: string): void;
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
const CLOSE_WAIT_MS = 1_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export function openRedis(options: RedisConnectionOptions): RedisConnection {
  const { health } = options;
  const client = createClient({
    url: options.url,
    name: options.name,
    disableOfflineQueue: true,
    // Only bounds the wait before a command is written; redis-store.ts bounds the reply.
    commandOptions: { timeout: options.commandTimeoutMs },
    socket: { connectTimeout: 2_000, reconnectStrategy: backoff },
  });
  const subscriber = client.duplicate({ name: `${options.name}-sub` });

  let firstError!: () => void;
  const failed = new Promise<void>((resolve) => (firstError = resolve));
  // node-redis emits 'error' on every failed reconnect; without a listener it would crash the process.
  client.on('error', (err: unknown) => {
    health.fail('connect', err);
    firstError();
  });
  // The subscriber's outages are not the commands' (the breaker stays closed); a lost
  // message is covered by resync() on resubscribe and by l1MaxAgeMs.
  subscriber.on('error', () => firstError());
  // A reconnect is a recovery: health then replays what the store missed.
  client.on('ready', () => health.ok());

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
          // close() lets in-flight replies arrive, but a hung Redis never sends them: bounded.
          // destroy() also ends a reconnect loop at once.
          if (c.isReady && c === client) await Promise.race([c.close().catch(() => undefined), sleep(CLOSE_WAIT_MS)]);
          if (c.isOpen) c.destroy();
        }
      })();
      return closing;
    },
  };
}

/** A command the store did not run: the connection is closed, or its breaker is open. */
export class StoreSkippedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StoreSkippedError';
  }
}

/** No reply within the deadline; `code` names the store (`cache_store_timeout`, `limits_store_timeout`). */
export class StoreTimeoutError extends Error {
  readonly code: string;
  constructor(store: string, ms: number) {
    super(`no reply from the ${store} store within ${ms} ms`);
    this.name = 'StoreTimeoutError';
    this.code = `${store}_store_timeout`;
  }
}

export type BoundedCall = <T>(op: () => Promise<T>) => Promise<T>;

/**
 * Runs one store operation, or refuses at once: once closed (@keyv/redis would reopen a
 * closed client) and while the breaker is open. node-redis's own command timeout stops
 * counting once a command is written, so a Redis that hangs with its socket open is cut off
 * here: the caller moves on after `ms` (the late reply, if any, is dropped). Shared by the
 * cache and the limits, each with its own connection, breaker and `store` name.
 */
export function boundedCall(client: RedisClient, health: StoreHealth, ms: number, store: string): BoundedCall {
  return <T>(op: () => Promise<T>) => {
    if (!client.isOpen) return Promise.reject(new StoreSkippedError(`${store} store is closed`));
    if (!health.allow()) return Promise.reject(new StoreSkippedError(`${store} store is down`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeoutError(store, ms)), ms);
    });
    return Promise.race([op(), deadline]).finally(() => clearTimeout(timer));
  };
}
