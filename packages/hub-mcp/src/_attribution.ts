import type { CreateMessageRequest, ElicitRequest } from '@modelcontextprotocol/sdk/types.js';

type SamplingParams = CreateMessageRequest['params'];
type ElicitParams = ElicitRequest['params'];
type Block = { type: string; text?: string };

const tag = (slug: string) => `[${slug}]`;

/**
 * A sampling request as the hub's client sees it: the first text of the first message starts
 * with `[<slug>]`, so the person approving it knows which instance asks (a project must not
 * pass for the hub). A request without text gets a first message that says who asks.
 */
export function attributeSampling(params: SamplingParams, slug: string): SamplingParams {
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

/** An elicitation as the hub's client sees it: its message starts with `[<slug>]`. */
export function attributeElicitation(params: ElicitParams, slug: string): ElicitParams {
  return { ...params, message: `${tag(slug)} ${params.message}` };
}
