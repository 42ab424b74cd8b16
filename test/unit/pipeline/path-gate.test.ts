import { describe, expect, it } from 'vitest'
import { isCanonicalPath } from '../../../src/pipeline/path-gate.js'

describe('isCanonicalPath', () => {
  it('accepts plain paths', () => {
    for (const p of ['/', '/api/chat', '/v1/models/llama3.2:latest', '/api/blobs/sha256:abc', '/api/tags?x=1']) expect(isCanonicalPath(p), p).toBe(true)
  })
  it('refuses every non-canonical spelling', () => {
    for (const p of ['', 'api/chat', '//api/pull', '/api//pull', '/api/pull/', '/api/./pull', '/api/../pull', '/api/%2e%2e/pull',
      '/api%2Fpull', '/api/pull;x', '/api/pull%00', '/api\\pull', 'http://x/api/pull', '*', '/api/pull#x', '/api/ pull']) {
      expect(isCanonicalPath(p), p).toBe(false)
    }
  })
})
