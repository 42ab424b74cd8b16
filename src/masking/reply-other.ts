// Replies without a model-written text stream that still carry text: embeddings (/api/embed,
// /api/embeddings, /v1/embeddings) and model details (/api/show: system prompt, template, license,
// Modelfile, parameters, messages, model_info). Each reply is one document, rebuilt field by field
// (fields.ts reshape): vectors and known numbers pass, every string is masked, a field without a
// rule is masked as a whole. Labelled as a stream, each line or event is masked the same way.
import {
  BadReply, each, errorOnly, fieldRules, isObj, reshape, rulesOf, type FieldRule, type MaskFn, type Obj, type RuleTable
} from './fields.js'
import type { ReplyRewriter } from './reply-rewriter.js'

export type OtherKind = 'embed' | 'openai-embed' | 'show'

const SHOW_TEXT = ['license', 'modelfile', 'parameters', 'template', 'system', 'remote_model', 'remote_host']
const SHOW_STRUCTURED = ['details', 'model_info', 'projector_info', 'tensors', 'capabilities', 'messages']
const SHOW_RULES: RuleTable = { ...each(SHOW_TEXT, 'text'), ...each(SHOW_STRUCTURED, 'strings'), modified_at: 'time' }
const EMBED_RULES: RuleTable = {
  model: 'text', embeddings: 'vector', embedding: 'vector', ...each(['total_duration', 'load_duration', 'prompt_eval_count'], 'num')
}

function rulesFor (kind: OtherKind, mask: MaskFn): Record<string, FieldRule> {
  const r = fieldRules(mask)
  if (kind === 'show') return rulesOf(SHOW_RULES, r)
  if (kind === 'embed') return rulesOf(EMBED_RULES, r)
  const item: Record<string, FieldRule> = { object: r.text, index: r.num, embedding: r.vector }
  return {
    object: r.text,
    model: r.text,
    usage: r.strings,
    data: (v) => {
      if (v === undefined || v === null) return v
      if (!Array.isArray(v)) throw new BadReply('data is not a list')
      return v.map((x) => {
        if (!isObj(x)) throw new BadReply('data item is not an object')
        return reshape(x, item, mask)
      })
    }
  }
}

export function maskOtherDocument (kind: OtherKind, obj: Obj, mask: MaskFn): Obj {
  return errorOnly(obj, mask) ?? reshape(obj, rulesFor(kind, mask), mask)
}

/** A reply of these kinds labelled as a stream: each frame masked as a document of its own. */
export function otherStreamRewriter (kind: OtherKind, mask: MaskFn): ReplyRewriter {
  return { next: (obj) => [maskOtherDocument(kind, obj, mask)], end: () => [] }
}
