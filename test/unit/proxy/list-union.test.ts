// Lists merged across hosts: one entry per model name, the first host's entry wins, and a reply
// that is not a list contributes nothing.
import { describe, expect, it } from 'vitest'
import { unionOfLists } from '../../../src/proxy/list-union.js'

describe('unionOfLists', () => {
  it('keeps one entry per model name, the first host\'s, in host order', () => {
    const a = { models: [{ name: 'llama3.2:latest', size: 1 }, { name: 'secret:latest' }] }
    const b = { models: [{ name: 'mistral:7b' }, { name: 'llama3.2:latest', size: 2 }] }
    expect(unionOfLists([a, b], 'models', ['name', 'model'])).toEqual({
      models: [{ name: 'llama3.2:latest', size: 1 }, { name: 'secret:latest' }, { name: 'mistral:7b' }]
    })
  })
  it('reads /v1/models ids and keeps the envelope of the first list', () => {
    const a = { object: 'list', data: [{ id: 'm:latest' }] }
    const b = { object: 'list', data: [{ id: 'm:latest' }, { id: 'n:latest' }] }
    expect(unionOfLists([a, b], 'data', ['id'])).toEqual({ object: 'list', data: [{ id: 'm:latest' }, { id: 'n:latest' }] })
  })
  it('a host that did not answer or sent something else is left out; none at all is null', () => {
    expect(unionOfLists([null, { models: 'nope' }, { models: [{ model: 'x:latest' }] }], 'models', ['name', 'model'])).toEqual({ models: [{ model: 'x:latest' }] })
    expect(unionOfLists([null, 42], 'models', ['name', 'model'])).toBeNull()
  })
})
