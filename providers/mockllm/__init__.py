"""A scripted fake LLM server speaking the OpenAI, Anthropic and Gemini wire formats.

Endpoints (any `/v1` prefix or none):
  POST /v1/chat/completions                  OpenAI Chat Completions (stream and not)
  POST /v1/responses                         OpenAI Responses (stream and not)
  POST /v1/messages                          Anthropic Messages (stream and not)
  POST /v1beta/models/{m}:streamGenerateContent?alt=sse, …:generateContent   Gemini
  GET  /v1/models                            a model list both OpenAI and Anthropic SDKs read
Any API key is accepted (x-api-key, Authorization: Bearer, x-goog-api-key, ?key=) except
"bad-key", which gets a 401 in the vendor's error shape.

Choosing a reply, first match wins:
1. Scripts. `POST /_mock/script {"match": "substring" | null, "stream"?: bool,
   "replies": [reply, …]}` queues replies; each request whose last user text contains
   `match` (null matches all) takes the next one, FIFO; `stream` true/false keeps them
   for streaming (chat) or non-streaming (title, summary) requests only. In scripted tool-call
   arguments, `{{find N REGEX}}` becomes the first group of REGEX's N-th match in the
   request body (to pass on an id that an earlier tool call returned). `POST /_mock/reset` drops scripts and recorded
   requests; `GET /_mock/requests` returns `{"requests": [{path, query, headers, body}]}`.
2. When the last message is a tool result: "The tool <name> returned: <result>", so
   multi-step tool runs end by themselves.
3. `mock:` lines in the last user message (one directive per line):
     mock: text Hello there            reply with this text
     mock: reasoning Let me think      stream reasoning first (signed for Anthropic)
     mock: tool read_file {"path": "a.txt"}   a tool call; several lines = parallel calls
     mock: websearch django 5.2        a provider-executed web search for "django 5.2" with two results,
                                       then text citing both (Anthropic server_tool_use +
                                       web_search_tool_result + citations_delta; Responses web_search_call
                                       + url_citation annotations; plain text in the other formats)
     mock: slow 50 20ms                50 text chunks, 20 ms apart
     mock: stall 5                     send headers, then nothing for 5 s, then the reply
     mock: error 429 [retry_after]     an HTTP error (with a Retry-After header)
     mock: usage 100 20 [cache_read cache_write reasoning]
     mock: malformed                   garbage SSE data after the first event
     mock: truncate                    the stream stops half-way, with no finish
     mock: disconnect                  the connection drops half-way, mid HTTP body
     mock: stream_error 529            half-way, the vendor's in-stream error (Anthropic `event: error`,
                                       an OpenAI chunk with `error`) instead of the rest
     mock: quirks crlf comments multiline_data   legal but unusual SSE: CRLF line ends, `:` comment
                                       lines, each event's JSON split over two `data:` lines
     mock: stamp                       every text chunk ends with "@<epoch secs> ", the time the
                                       server wrote it (for latency benchmarks on one machine)
4. Otherwise an echo, "Mock reply to: <last user text>", in a few chunks.

A reply (JSON, all keys optional):
  {"text": "…" | ["chunk", …], "chunk_delay_ms": 0, "reasoning": "…" | [...],
   "signature": "…", "tool_calls": [{"id"?, "name", "arguments": {…}} |
   {"name", "args_chunks": ["{\\"pa", "th\\": 1}"]}], "usage": {"input_tokens",
   "output_tokens", "reasoning_tokens", "cache_read_tokens", "cache_write_tokens"},
   "error": {"status": 429, "message"?, "retry_after"?}, "slow": {"chunks", "delay_ms"},
   "stall_seconds": 0, "malformed": false, "truncate": false, "disconnect": false, "finish_reason": "length" | "pause"?,
   "stamp": false, "stream_error": {"status": 529, "message"?}, "quirks": ["crlf", …],
   "web_search": {"query", "error"?: "max_uses_exceeded"}}  (like `mock: websearch`; sets the text;
   with `error` the search fails: Anthropic web_search_tool_result_error, Responses status failed)
Usage is given in chatd's neutral terms (input excludes cache, output includes
reasoning) and rendered in each vendor's own accounting.
"""

from providers.mockllm.server import MockLLMServer, start_in_thread

__all__ = ["MockLLMServer", "start_in_thread"]
