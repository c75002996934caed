// Stub model APIs for the agent trials: just enough of Anthropic's Messages API, OpenAI's
// Responses API and Google's Gemini API for an agent CLI to run one whole turn against a local
// server. The stub plays one script: on the first turn it calls the offered tool whose name
// ends in `scripts_list`, with no arguments; once the conversation holds that tool's result it
// answers a final text. It records every request and what it saw (the tools offered, the
// system text, the tool result exactly as the client passed it) for the trial's report.
import { createServer } from 'node:http';

/** How long the stub holds its probing call (see `decide`), in ms. */
const PROBE_HOLD_MS = 3000;
const FINAL_TEXT = 'Stub model: the scripts_list result arrived; done.';
const epochMs = () => Math.round((performance.timeOrigin + performance.now()) * 10) / 10;

/** The tool the stub calls: the offered name that ends in `scripts_list` (shortest first). */
export function pickScriptsList(names) {
  const hits = names.filter((n) => /(^|[^A-Za-z0-9])scripts_list$/.test(n) || n === 'scripts_list');
  return hits.sort((a, b) => a.length - b.length)[0];
}

// ---------------------------------------------------------------- Anthropic Messages (Claude Code)

const anthropic = {
  isTurn: (req) => req.method === 'POST' && /\/v1\/messages(\?|$)/.test(req.url),
  tools: (body) =>
    (body.tools ?? []).map((t) => ({ name: t.name ?? t.type, schema: t.input_schema, def: t })),
  system: (body) =>
    typeof body.system === 'string'
      ? body.system
      : (body.system ?? []).map((b) => b.text ?? '').join('\n'),
  /** tool_result blocks for the stub's own call id. */
  results: (body, callId) =>
    (body.messages ?? [])
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b) => b.type === 'tool_result' && b.tool_use_id === callId),
  hasAnyResult: (body) =>
    (body.messages ?? []).some(
      (m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result'),
    ),
  reply(res, body, answer) {
    const id = `msg_stub_${Date.now()}`;
    const model = body.model ?? 'stub';
    const usage = { input_tokens: 10, output_tokens: 5 };
    const block =
      answer.kind === 'call'
        ? { type: 'tool_use', id: answer.callId, name: answer.name, input: answer.input }
        : { type: 'text', text: answer.text };
    const stop = answer.kind === 'call' ? 'tool_use' : 'end_turn';
    if (!body.stream) {
      return json(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [block],
        stop_reason: stop,
        stop_sequence: null,
        usage,
      });
    }
    const events = [
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id,
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 10, output_tokens: 1 },
          },
        },
      ],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block:
            answer.kind === 'call' ? { ...block, input: {} } : { type: 'text', text: '' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta:
            answer.kind === 'call'
              ? { type: 'input_json_delta', partial_json: JSON.stringify(answer.input) }
              : { type: 'text_delta', text: answer.text },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: { stop_reason: stop, stop_sequence: null },
          usage: { output_tokens: 5 },
        },
      ],
      ['message_stop', { type: 'message_stop' }],
    ];
    sse(res, events);
  },
  other(req, res) {
    if (/count_tokens/.test(req.url)) return json(res, 200, { input_tokens: 100 });
    return json(res, 404, {
      type: 'error',
      error: { type: 'not_found_error', message: 'stub' },
    });
  },
};

// ------------------------------------------------------------------- OpenAI Responses (Codex CLI)

/** Function tools, with those inside a namespace tool named by their namespace too. */
function responsesTools(body) {
  const out = [];
  for (const t of body.tools ?? []) {
    if (Array.isArray(t.tools)) {
      for (const inner of t.tools)
        out.push({
          name: inner.name,
          namespace: t.name,
          namespaceDef: { ...t, tools: `(${t.tools.length} tools)` },
          schema: inner.parameters,
          def: inner,
        });
    } else out.push({ name: t.name ?? t.type, schema: t.parameters, def: t });
  }
  return out;
}

const responses = {
  isTurn: (req) => req.method === 'POST' && /\/responses(\?|$)/.test(req.url),
  tools: responsesTools,
  system: (body) =>
    [
      body.instructions ?? '',
      ...(body.input ?? [])
        .filter((i) => i.role === 'developer' || i.role === 'system')
        .flatMap((i) => (Array.isArray(i.content) ? i.content : [{ text: String(i.content) }]))
        .map((c) => c.text ?? ''),
    ].join('\n'),
  results: (body, callId) =>
    (body.input ?? []).filter(
      (i) =>
        (i.type === 'function_call_output' || i.type === 'custom_tool_call_output') &&
        i.call_id === callId,
    ),
  hasAnyResult: (body) => (body.input ?? []).some((i) => /_output$/.test(i.type ?? '')),
  reply(res, body, answer) {
    const id = `resp_stub_${Date.now()}`;
    const item =
      answer.kind === 'call'
        ? {
            type: 'function_call',
            id: `fc_${answer.callId}`,
            call_id: answer.callId,
            name: answer.name,
            ...(answer.namespace ? { namespace: answer.namespace } : {}),
            arguments: JSON.stringify(answer.input),
            status: 'completed',
          }
        : {
            type: 'message',
            id: `msg_${id}`,
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: answer.text, annotations: [] }],
          };
    const usage = {
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    };
    const response = {
      id,
      object: 'response',
      status: 'in_progress',
      model: body.model,
      output: [],
    };
    const events = [
      ['response.created', { type: 'response.created', response }],
      [
        'response.output_item.added',
        {
          type: 'response.output_item.added',
          output_index: 0,
          item: { ...item, status: 'in_progress' },
        },
      ],
      ...(answer.kind === 'text'
        ? [
            [
              'response.output_text.delta',
              {
                type: 'response.output_text.delta',
                item_id: item.id,
                output_index: 0,
                content_index: 0,
                delta: answer.text,
              },
            ],
          ]
        : []),
      ['response.output_item.done', { type: 'response.output_item.done', output_index: 0, item }],
      [
        'response.completed',
        {
          type: 'response.completed',
          response: { ...response, status: 'completed', output: [item], usage },
        },
      ],
    ];
    if (body.stream === false)
      return json(res, 200, { ...response, status: 'completed', output: [item], usage });
    sse(res, events);
  },
  other(req, res) {
    if (req.method === 'GET' && /\/models(\?|$)/.test(req.url))
      return json(res, 200, { object: 'list', data: [], models: [] });
    return json(res, 404, { error: { message: 'stub: not here', type: 'not_found' } });
  },
};

// ------------------------------------------------------------------------ Gemini API (Gemini CLI)

/** An answer that fits a JSON schema well enough for the CLI's side questions. */
function fillSchema(schema, key = '') {
  if (!schema || typeof schema !== 'object') return 'stub';
  if (Array.isArray(schema.enum)) return schema.enum.includes('user') ? 'user' : schema.enum[0];
  const type = String(schema.type ?? '').toLowerCase();
  if (type === 'object' || schema.properties) {
    const out = {};
    for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = fillSchema(v, k);
    return out;
  }
  if (type === 'array') return [];
  if (type === 'boolean') return false;
  if (type === 'number' || type === 'integer') return schema.minimum ?? 1;
  if (key === 'next_speaker') return 'user';
  return 'stub';
}

const gemini = {
  isTurn: (req) => req.method === 'POST' && /:(stream)?[gG]enerateContent(\?|$)/.test(req.url),
  tools: (body) =>
    (body.tools ?? []).flatMap((t) =>
      (t.functionDeclarations ?? t.function_declarations ?? []).map((f) => ({
        name: f.name,
        schema: f.parametersJsonSchema ?? f.parameters,
        schemaKey: f.parametersJsonSchema
          ? 'parametersJsonSchema'
          : f.parameters
            ? 'parameters'
            : 'none',
        def: f,
      })),
    ),
  system: (body) =>
    (body.systemInstruction?.parts ?? body.system_instruction?.parts ?? [])
      .map((p) => p.text ?? '')
      .join('\n'),
  results: (body, _callId, name) =>
    (body.contents ?? [])
      .flatMap((c) => c.parts ?? [])
      .filter((p) => p.functionResponse && (!name || p.functionResponse.name === name)),
  hasAnyResult: (body) =>
    (body.contents ?? []).some((c) => (c.parts ?? []).some((p) => p.functionResponse)),
  reply(res, body, answer, req) {
    const jsonSchema =
      body.generationConfig?.responseJsonSchema ?? body.generationConfig?.responseSchema;
    const text =
      answer.kind === 'text' && body.generationConfig?.responseMimeType === 'application/json'
        ? JSON.stringify(fillSchema(jsonSchema))
        : answer.text;
    const parts =
      answer.kind === 'call'
        ? [{ functionCall: { name: answer.name, args: answer.input } }]
        : [{ text }];
    const chunk = {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: 'stub',
    };
    if (/streamGenerateContent/.test(req.url)) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    } else json(res, 200, chunk);
  },
  other(req, res) {
    if (/:countTokens/.test(req.url)) return json(res, 200, { totalTokens: 100 });
    if (/:embedContent/.test(req.url)) return json(res, 200, { embedding: { values: [0] } });
    return json(res, 404, { error: { code: 404, message: 'stub: not here', status: 'NOT_FOUND' } });
  },
};

const APIS = { anthropic, responses, gemini };

/** Every string in a value, one per line. */
export function allText(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(allText).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(allText).join('\n');
  return '';
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [event, data] of events)
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  res.end();
}

/**
 * Starts a stub of `api` (`anthropic`, `responses` or `gemini`) on 127.0.0.1 (any free port).
 * `onTurn(record)` is told of each model turn as it arrives. Returns its base URL, what it
 * recorded, and `close()`.
 */
export async function startStub(api, { onTurn } = {}) {
  const impl = APIS[api];
  if (!impl) throw new Error(`no stub for ${api}`);
  const recorded = {
    requests: [],
    turns: [],
    called: undefined,
    searched: undefined,
    probed: undefined,
  };

  /**
   * The stub's script: call scripts_list (loading it through the client's tool search first
   * when the client only names it), then answer a final text once its result is back.
   */
  function decide(impl, body, tools, names, results, entry) {
    if (tools.length === 0) {
      entry.kind = 'side';
      return { kind: 'text', text: 'stub' };
    }
    if (
      results.length > 0 ||
      (recorded.called && impl.hasAnyResult(body, recorded.called.callId))
    ) {
      entry.kind = 'after-result';
      return { kind: 'text', text: FINAL_TEXT };
    }
    const name = pickScriptsList(names);
    if (name && !recorded.called) {
      entry.kind = recorded.searched ? 'after-search' : recorded.probed ? 'after-probe' : 'turn';
      const tool = tools.find((t) => t.name === name);
      const callId = `call_beacon_scripts_${process.pid}`;
      recorded.called = { name, namespace: tool?.namespace, callId, at: entry.t };
      return { kind: 'call', name, namespace: tool?.namespace, callId, input: {} };
    }
    // Claude Code names deferred tools in its system prompt and loads them with ToolSearch.
    // The longest spelling wins: the prompt itself says plain `scripts_list`.
    const deferred = [
      ...allText([body.system ?? '', body.messages ?? []]).matchAll(
        /[A-Za-z0-9_.-]*scripts_list\b/g,
      ),
    ]
      .map((m) => m[0])
      .sort((a, b) => b.length - a.length)[0];
    if (!recorded.called && !recorded.searched && deferred && names.includes('ToolSearch')) {
      entry.kind = 'turn';
      const callId = `call_beacon_search_${process.pid}`;
      recorded.searched = { name: 'ToolSearch', deferred, callId, at: entry.t };
      return { kind: 'call', name: 'ToolSearch', callId, input: { query: `select:${deferred}` } };
    }
    // Tools that were not there yet (a server slower than the client's start-up grace): one
    // harmless call keeps the turn going, and the next request shows whether they came later.
    if (!recorded.called && !recorded.probed && names.includes('list_mcp_resources')) {
      entry.kind = 'turn';
      const callId = `call_beacon_probe_${process.pid}`;
      recorded.probed = { name: 'list_mcp_resources', callId, at: entry.t };
      // Held for a while, so that a server that is merely late is up when the next request goes.
      return { kind: 'call', name: 'list_mcp_resources', callId, input: {}, holdMs: PROBE_HOLD_MS };
    }
    entry.kind = recorded.searched ? 'after-search' : recorded.probed ? 'after-probe' : 'turn';
    return {
      kind: 'text',
      text: recorded.called
        ? 'Stub model: no result for the call arrived.'
        : 'Stub model: no scripts_list tool was offered.',
    };
  }

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = { unparsed: raw.slice(0, 2000) };
      }
      const entry = { t: epochMs(), method: req.method, url: req.url, bytes: raw.length };
      recorded.requests.push(entry);
      if (!impl.isTurn(req)) {
        entry.kind = 'other';
        return impl.other(req, res, body);
      }
      const tools = impl.tools(body);
      const names = tools.map((t) => t.name);
      const main = recorded.called;
      const results = main ? impl.results(body, main.callId, main.name) : [];
      const turn = {
        t: entry.t,
        url: req.url,
        model: body.model ?? /models\/([^:]+)/.exec(req.url)?.[1],
        toolCount: tools.length,
        tools,
        system: impl.system(body),
        body,
        results,
      };
      const answer = decide(impl, body, tools, names, results, entry);
      turn.kind = entry.kind;
      turn.answer =
        answer.kind === 'call'
          ? { call: answer.name, namespace: answer.namespace, input: answer.input }
          : { text: answer.text };
      recorded.turns.push(turn);
      Promise.resolve(onTurn?.(turn))
        .catch(() => undefined)
        .then(() => new Promise((r) => setTimeout(r, answer.holdMs ?? 0)))
        .then(() => impl.reply(res, body, answer, req));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    recorded,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
