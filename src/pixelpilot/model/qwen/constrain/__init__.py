"""Constrained decoding for Qwen tool calls: a byte-level grammar and its logits processor.

`grammar` (ToolCallGrammar: known actions, required arguments, integer coordinates inside the
resized image), `values` (the JSON value machines it is built from), `processor` (the
transformers LogitsProcessor that masks tokens the grammar refuses), `vocab` (the vocabulary
trie and the cache kept across steps), `ebnf` (the same grammar as EBNF text, for servers that
constrain decoding themselves).

May import: `pixelpilot.model.qwen` protocol modules; torch and transformers only in `processor`.
"""
