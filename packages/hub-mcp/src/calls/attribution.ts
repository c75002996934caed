import { cleanText } from '@mcp-beacon/runtime';
import type {
  CallToolResult,
  CreateMessageRequest,
  ElicitRequest,
} from '@modelcontextprotocol/server';
import { isRecord } from '../_values.js';

type SamplingParams = CreateMessageRequest['params'];
type ElicitParams = ElicitRequest['params'];
type Block = { type: string; text?: string };

/**
 * The mark that says who wrote a text: `[<who>]`, with brackets inside the name made
 * parentheses, so no name can close the mark and open one of its own (`web] [beacon-hub`).
 */
export const tag = (who: string) => `[${cleanText(who).replace(/\[/g, '(').replace(/\]/g, ')')}]`;

/** Multi-line text an instance wrote, cleaned (control and invisible characters made visible). */
const clean = (text: string) => cleanText(text, { newlines: true });

/**
 * A sampling request as the hub's client sees it: its system prompt and the first text of the
 * first message start with `[<slug>]`, so the person approving it knows which instance asks (a
 * project must not pass for the hub), and every text is cleaned. A request without text gets a
 * first message that says who asks.
 */
export function attributeSampling(input: SamplingParams, slug: string): SamplingParams {
  const params: SamplingParams = {
    ...input,
    messages: input.messages.map((m) => {
      const content = m.content as Block | Block[];
      const cleanBlock = (b: Block): Block =>
        b.type === 'text' && typeof b.text === 'string' ? { ...b, text: clean(b.text) } : b;
      return {
        ...m,
        content: Array.isArray(content) ? content.map(cleanBlock) : cleanBlock(content),
      } as typeof m;
    }),
    ...(typeof input.systemPrompt === 'string'
      ? { systemPrompt: `${tag(slug)} ${clean(input.systemPrompt)}` }
      : {}),
  };
  const [first, ...rest] = params.messages;
  const prefix = (block: Block): Block =>
    block.type === 'text' ? { ...block, text: `${tag(slug)} ${block.text ?? ''}` } : block;
  if (first) {
    const content = first.content as Block | Block[];
    if (Array.isArray(content)) {
      const at = content.findIndex((b) => b.type === 'text');
      if (at >= 0) {
        const next = content.map((b, i) => (i === at ? prefix(b) : b));
        return { ...params, messages: [{ ...first, content: next } as typeof first, ...rest] };
      }
    } else if (content.type === 'text') {
      return {
        ...params,
        messages: [{ ...first, content: prefix(content) } as typeof first, ...rest],
      };
    }
  }
  const notice = {
    role: 'user' as const,
    content: { type: 'text' as const, text: `${tag(slug)} asks for this completion.` },
  };
  return { ...params, messages: [notice, ...params.messages] };
}

/** An elicitation as the hub's client sees it: its message, cleaned, starts with `[<slug>]`. */
export function attributeElicitation(params: ElicitParams, slug: string): ElicitParams {
  return { ...params, message: `${tag(slug)} ${clean(params.message)}` };
}

/** The `_meta` key of a tool result that names the instance that answered it. */
const ANSWERED_BY = 'beacon/instance';

/** The instance that answered a call, as results name it. */
export interface Answerer {
  id: string;
  /** Its name, cleaned. */
  name: string;
  slug: string;
  /** `/path`, or `remote:/path` for a remote instance (cleaned). */
  location: string;
}

/** The line a result ends with: who answered, where. */
const answeredLine = (who: Answerer) => `answered by ${who.name} (${who.location})`;

/**
 * The property of a routed result's `structuredContent` (and of its listed output schema) that
 * says who answered, for clients that show the model only structured content (Codex CLI).
 */
export const ANSWERED_BY_PROPERTY = 'answeredBy';

/**
 * A routed tool result that says who answered, however the client shows it: one last text block
 * (the instance's own blocks stay first and unchanged, so nothing it wrote can follow the hub's
 * line), {@link ANSWERED_BY_PROPERTY} in an object `structuredContent` (the hub's word replaces
 * any of the instance's own), and `_meta["beacon/instance"]` with its id, name, slug and
 * location.
 */
export function attributeResult(result: CallToolResult, who: Answerer): CallToolResult {
  const content = Array.isArray(result.content) ? result.content : [];
  const meta = isRecord(result._meta) ? result._meta : {};
  const line = answeredLine(who);
  return {
    ...result,
    content: [...content, { type: 'text', text: line }],
    ...(isRecord(result.structuredContent)
      ? { structuredContent: { ...result.structuredContent, [ANSWERED_BY_PROPERTY]: line } }
      : {}),
    _meta: { ...meta, [ANSWERED_BY]: { ...who } },
  };
}

/**
 * An instance tool's output schema as the hub lists it: an object schema gains
 * {@link ANSWERED_BY_PROPERTY}, so what the hub returns stays valid for it; any other schema is
 * left as it is.
 */
export function withAnsweredBy(schema: Record<string, unknown>): Record<string, unknown> {
  if (schema.type !== 'object') return schema;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  return {
    ...schema,
    properties: {
      ...properties,
      [ANSWERED_BY_PROPERTY]: { type: 'string', description: 'The project that answered' },
    },
  };
}

/**
 * An instance's JSON-RPC error, its code and message as sent, with who answered added to its
 * `data` (when that is absent or an object; other data is left as it is).
 */
export function attributeError(error: unknown, who: Answerer): unknown {
  if (!isRecord(error) || typeof error.code !== 'number') return error;
  const { data } = error;
  if (data === undefined) error.data = { [ANSWERED_BY]: { ...who } };
  else if (isRecord(data)) error.data = { ...data, [ANSWERED_BY]: { ...who } };
  return error;
}
