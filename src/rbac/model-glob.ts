// A role's `models` entries: globs over canonical model names (see model-name.ts).
//   `*`            every model, from any registry and namespace
//   `llama3.2`     exactly llama3.2:latest (no tag and no wildcard means the tag `latest`, as in Ollama)
//   `llama3.2:*`   every tag of llama3.2
//   `qwen*`        every library model whose name:tag starts with qwen (qwen2.5:7b, qwen:latest)
//   `bob/*`        everything in namespace bob; `hf.co/*/*` everything from hf.co
// `*` matches any run of characters except `/`, so a glob never reaches into another namespace.
import { joinModelName, splitModelName } from '../ollama/model-name.js'

export interface ModelGlob {
  /** the glob as written in the config */
  source: string
  /** the glob in canonical form, as matched */
  canonical: string
  test (canonicalName: string): boolean
}

/** Compiles one glob, or returns a problem string naming what is wrong with it. */
export function compileModelGlob (source: string): ModelGlob | string {
  if (source === '*') return { source, canonical: '*', test: () => true }
  if (source.includes('**')) return 'use a single "*" (it matches any characters except "/")'
  const parts = splitModelName(source, true)
  if (parts === null) {
    return 'not a model name or glob: use [host/][namespace/]name[:tag] with letters, digits, "_", ".", "-" and "*"'
  }
  // no tag and no wildcard in the last part: Ollama reads the tag as `latest`
  const lastHasWildcard = parts.model.includes('*') || (parts.tag ?? '').includes('*')
  const canonical = joinModelName(parts, lastHasWildcard ? null : 'latest')
  const pattern = canonical.split('*').map(escapeRegExp).join('[^/]*')
  const re = new RegExp(`^${pattern}$`)
  return { source, canonical, test: (name) => re.test(name) }
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}
