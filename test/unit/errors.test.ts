import { describe, expect, it } from 'vitest'
import { BadReply, ConfigError, errors, FrameTooLargeError, GatehouseError, isGatehouseError } from '../../src/errors.js'

describe('the error table', () => {
  it('every error is a GatehouseError with a GH_ERR_ code and an HTTP status', () => {
    for (const [name, E] of Object.entries(errors)) {
      const err = new E('x')
      expect(err, name).toBeInstanceOf(GatehouseError)
      expect(err.code, name).toMatch(/^GH_ERR_[A-Z_]+$/)
      expect(typeof err.statusCode, name).toBe('number')
      expect(err.statusCode, name).toBeGreaterThanOrEqual(400)
    }
  })

  it('codes are unique', () => {
    const codes = Object.values(errors).map((E) => new E('x').code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('errors are recognised by class, not by the look of their code', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'GH_ERR_FORBIDDEN', statusCode: undefined })
    expect(isGatehouseError(lookalike)).toBe(false)
    expect(isGatehouseError(new errors.FORBIDDEN())).toBe(true)
  })

  it('the classes with extra fields are still errors of the table', () => {
    const c = new ConfigError(['a: bad', 'b: worse'])
    expect(c).toBeInstanceOf(errors.CONFIG_INVALID)
    expect(c.code).toBe('GH_ERR_CONFIG_INVALID')
    expect(c.problems).toEqual(['a: bad', 'b: worse'])
    expect(c.message).toBe('invalid configuration:\n  a: bad\n  b: worse')

    const f = new FrameTooLargeError(10)
    expect(f).toBeInstanceOf(errors.FRAME_TOO_LARGE)
    expect(f.code).toBe('GH_ERR_FRAME_TOO_LARGE')
    expect(f.limit).toBe(10)

    const b = new BadReply('not JSON')
    expect(b).toBeInstanceOf(errors.UPSTREAM_BAD_REPLY)
    expect(b.code).toBe('GH_ERR_UPSTREAM_BAD_REPLY')
    // the detail is for the log; the client sees the table's message
    expect(b.message).toBe('upstream reply could not be processed')
    expect(b.detail).toBe('not JSON')
  })
})
