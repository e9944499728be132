// The wire contract shared with the original Python services: queue names, message shapes, encoding.
import { z } from 'zod';

/** The three logical queues, in the order the original declares them. */
export const QUEUES = ['features', 'y_true', 'y_pred'] as const;
export type QueueName = (typeof QUEUES)[number];

/** Ids are finite numbers (the original sends a float Unix timestamp) or short strings. */
export type MessageId = number | string;

export const MAX_ID_LENGTH = 128;
/** A message body larger than this is rejected before it is parsed. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A features vector longer than this is rejected (guards memory, not a model limit). */
export const MAX_FEATURES = 100_000;

/** Header that carries the features publish time (ms since epoch, sub-ms) down the pipeline, for latency. */
export const HEADER_PUBLISHED_AT = 'x-predstream-published-at';
/** Header that says why a message was dead-lettered. */
export const HEADER_REASON = 'x-predstream-reason';
/** Header naming the logical queue a dead letter came from, so `dead-letters replay` can send it back. */
export const HEADER_ORIGIN_QUEUE = 'x-predstream-origin-queue';
/** Header counting processing attempts of a message that failed for a reason other than its content. */
export const HEADER_ATTEMPTS = 'x-predstream-attempts';

/** The physical queue name for a logical queue under a prefix (`t1.` + `features`). */
export function queueName(prefix: string, queue: QueueName): string {
  return `${prefix}${queue}`;
}

/** Dead-letter queue of a physical queue. */
export function deadLetterQueueName(physicalQueue: string): string {
  return `${physicalQueue}.dead`;
}

/** The exchange that routes dead letters to `<queue>.dead`. */
export function deadLetterExchangeName(prefix: string): string {
  return `${prefix}predstream.dead-letter`;
}

/** Two ids are the same only if their JSON forms are equal: 151 and "151" differ, 1.0 and 1 do not. */
export function idKey(id: MessageId): string {
  return JSON.stringify(id);
}

// Control characters (C0, DEL, C1) are refused in string ids: they break log lines and CSV viewers.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

const idSchema = z.union(
  [
    z.number().refine(Number.isFinite, 'id must be a finite number'),
    z
      .string()
      .min(1, 'id must not be empty')
      .max(MAX_ID_LENGTH, `id longer than ${MAX_ID_LENGTH} characters`)
      .refine((s) => !CONTROL_CHARS.test(s), 'id contains control characters'),
  ],
  { error: 'id must be a number or a string' },
);

const finiteNumber = z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be finite');

const BODY_SCHEMAS = {
  features: z
    .array(finiteNumber, { error: 'must be an array of numbers' })
    .min(1, 'must not be empty')
    .max(MAX_FEATURES, `more than ${MAX_FEATURES} features`),
  y_true: finiteNumber,
  y_pred: finiteNumber,
} as const;

export type BodyOf<Q extends QueueName> = z.infer<(typeof BODY_SCHEMAS)[Q]>;

export interface WireMessage<Q extends QueueName = QueueName> {
  id: MessageId;
  body: BodyOf<Q>;
}

export type DecodeResult<Q extends QueueName> =
  { ok: true; message: WireMessage<Q> } | { ok: false; reason: string; id?: MessageId };

/** Content types accepted on the wire: none (as the original sends), JSON, or plain text holding JSON. */
const ACCEPTED_CONTENT_TYPES = new Set([undefined, '', 'application/json', 'text/plain']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(raw: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text: string;
  if (Buffer.isBuffer(raw)) {
    if (raw.length === 0) return { ok: false, reason: 'empty body' };
    if (raw.length > MAX_MESSAGE_BYTES)
      return { ok: false, reason: `body of ${raw.length} bytes exceeds the limit of ${MAX_MESSAGE_BYTES}` };
    try {
      text = utf8.decode(raw);
    } catch {
      return { ok: false, reason: 'body is not valid UTF-8' };
    }
  } else if (typeof raw === 'string') {
    text = raw;
    if (text.length === 0) return { ok: false, reason: 'empty body' };
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES)
      return { ok: false, reason: `body exceeds the limit of ${MAX_MESSAGE_BYTES} bytes` };
  } else {
    // Already parsed by the AMQP client (content type application/json).
    return { ok: true, value: raw };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const hint = /\b(NaN|-?Infinity)\b/.test(text) ? ' (NaN and Infinity are not JSON)' : '';
    return { ok: false, reason: `not valid JSON${hint}: ${(err as Error).message}` };
  }
}

/**
 * Validates one delivery from `queue`. `raw` is the body as the AMQP client hands it over
 * (a Buffer, a string for text/plain, or an already-parsed value for application/json).
 */
export function decodeMessage<Q extends QueueName>(
  queue: Q,
  raw: unknown,
  contentType?: string,
): DecodeResult<Q> {
  if (!ACCEPTED_CONTENT_TYPES.has(contentType)) {
    return { ok: false, reason: `unsupported content type '${contentType}' (send JSON)` };
  }
  const parsed = parseJson(raw);
  if (!parsed.ok) return parsed;
  const envelope = parsed.value;
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return { ok: false, reason: 'message must be a JSON object {"id": ..., "body": ...}' };
  }
  const { id: rawId, body: rawBody } = envelope as { id?: unknown; body?: unknown };
  if (rawId === undefined) return { ok: false, reason: 'missing "id"' };
  const id = idSchema.safeParse(rawId);
  if (!id.success) return { ok: false, reason: `bad "id": ${id.error.issues[0]?.message ?? 'invalid'}` };
  if (rawBody === undefined) return { ok: false, reason: 'missing "body"', id: id.data };
  const body = BODY_SCHEMAS[queue].safeParse(rawBody);
  if (!body.success) {
    const issue = body.error.issues[0];
    const where = issue && issue.path.length > 0 ? `[${issue.path.join('.')}] ` : '';
    return {
      ok: false,
      reason: `bad "body" for queue ${queue}: ${where}${issue?.message ?? 'invalid'}`,
      id: id.data,
    };
  }
  return { ok: true, message: { id: id.data, body: body.data as BodyOf<Q> } };
}

/** The original's body: `json.dumps({"id": id, "body": value})`. */
export function encodeMessage<Q extends QueueName>(id: MessageId, body: BodyOf<Q>): Buffer {
  return Buffer.from(JSON.stringify({ id, body }), 'utf8');
}
