import type { Database } from "@viper/db/client";
import { limitEvents } from "@viper/db/schema/limit-events";
import type { Logger } from "@viper/shared/logger";
import type { KeyValueStore } from "@viper/shared/store";
import type { BucketState, LimitDecision } from "./decision.ts";

/** The share of a limit that triggers a notification, in percent. */
export type LimitThreshold = 80 | 100;

/** The key and project the observed request was charged to. */
export interface LimitEventSubject {
  projectId: string;
  apiKeyId: string;
}

export interface LimitEventRecorderOptions {
  db: Database;
  /** Claims each event once across instances (Redis) or in this process (memory store). */
  store: KeyValueStore;
  logger: Logger;
  /** Each bucket records each threshold at most once per window of this many seconds. */
  windowSeconds?: number;
}

/** An event this recorder wrote, as observe() reports it. */
export interface RecordedLimitEvent {
  bucketKind: BucketState["kind"];
  bucketId: string;
  threshold: LimitThreshold;
  windowStart: Date;
}

// Claims this process already knows about are not asked of the store again; past this many,
// expired ones are dropped.
const memoLimit = 10_000;

/**
 * Records a bucket crossing 80% and 100% of its limit as limit_events rows plus a log line, once
 * per bucket, threshold and window however many instances see it: each event is first claimed
 * with the store's setIfAbsent. Windows are aligned to the decision's clock (Redis time when
 * Redis answered), so instances agree on them.
 */
export class LimitEventRecorder {
  private readonly db: Database;
  private readonly store: KeyValueStore;
  private readonly logger: Logger;
  private readonly windowMs: number;
  private readonly memo = new Map<string, number>();

  constructor(options: LimitEventRecorderOptions) {
    this.db = options.db;
    this.store = options.store;
    this.logger = options.logger;
    this.windowMs = (options.windowSeconds ?? 3_600) * 1000;
  }

  /**
   * Looks at every bucket of a decision and records the thresholds it reached for the first
   * time this window. Never throws: a failure is logged at warn and the event is retried on a
   * later request. Call it without awaiting, off the request's path.
   */
  async observe(
    decision: LimitDecision,
    subject: LimitEventSubject,
  ): Promise<RecordedLimitEvent[]> {
    if (decision.outcome === "unavailable") {
      return [];
    }
    const windowStart = Math.floor(decision.at / this.windowMs) * this.windowMs;
    const recorded: RecordedLimitEvent[] = [];
    for (const bucket of decision.buckets) {
      for (const threshold of reachedThresholds(bucket)) {
        const event = { bucketKind: bucket.kind, bucketId: bucket.id, threshold };
        const written = await this.recordOnce(bucket, threshold, windowStart, subject);
        if (written) {
          recorded.push({ ...event, windowStart: new Date(windowStart) });
        }
      }
    }
    return recorded;
  }

  private async recordOnce(
    bucket: BucketState,
    threshold: LimitThreshold,
    windowStart: number,
    subject: LimitEventSubject,
  ): Promise<boolean> {
    const claim = `limit-event:${bucket.kind}:${bucket.id}:${threshold}:${windowStart}`;
    const now = Date.now();
    if ((this.memo.get(claim) ?? 0) > now) {
      return false;
    }
    const fields = {
      projectId: subject.projectId,
      apiKeyId: bucket.kind === "project" ? null : subject.apiKeyId,
      bucketKind: bucket.kind,
      method: bucket.method ?? null,
      threshold,
      windowStart: new Date(windowStart),
    };
    let claimed = false;
    try {
      claimed = await this.store.setIfAbsent(claim, "1", this.windowMs + 60_000);
      this.remember(claim, now + this.windowMs);
      if (!claimed) {
        return false;
      }
      await this.db.insert(limitEvents).values(fields);
    } catch (error) {
      this.logger.warn({ err: error, ...fields }, "limit event not recorded");
      // Give the claim back so a later request can try again.
      this.memo.delete(claim);
      if (claimed) {
        await this.store.del(claim).catch(() => undefined);
      }
      return false;
    }
    this.logger.info({ ...fields, capacity: bucket.capacity }, "rate limit threshold reached");
    return true;
  }

  private remember(claim: string, until: number): void {
    if (this.memo.size >= memoLimit) {
      const now = Date.now();
      for (const [key, expiresAt] of this.memo) {
        if (expiresAt <= now) {
          this.memo.delete(key);
        }
      }
    }
    if (this.memo.size < memoLimit) {
      this.memo.set(claim, until);
    }
  }
}

/**
 * The thresholds a bucket stands at after a request: 100 when it refused the request or has
 * nothing left, 80 from four fifths of its capacity in use. Reaching 100 implies 80.
 */
export function reachedThresholds(bucket: BucketState): LimitThreshold[] {
  const used = (bucket.capacity - bucket.remaining) / bucket.capacity;
  if (!bucket.sufficient || bucket.remaining <= 0) {
    return [80, 100];
  }
  return used >= 0.8 ? [80] : [];
}
