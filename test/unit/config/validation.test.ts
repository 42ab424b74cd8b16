import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { Type } from 'typebox'
import { Ajv } from 'ajv'
import { strictRouteSchemas } from '../../../src/config/validation.js'
import { ConfigSchema } from '../../../src/config/schema.js'
import * as adminSchemas from '../../../src/admin/schemas.js'
import * as authSchemas from '../../../src/auth/schemas.js'
import { GatehouseError } from '../../../src/errors.js'

async function app () {
  const a = Fastify()
  a.setErrorHandler((err, _request, reply) =>
    reply.code(400).send({ ours: err instanceof GatehouseError, code: (err as { code?: string }).code, message: (err as Error).message }))
  await a.register(async (scope) => {
    strictRouteSchemas(scope)
    scope.post('/strict', { schema: { body: Type.Object({ n: Type.Integer(), s: Type.Optional(Type.String()) }, { additionalProperties: false }) } },
      async (request) => ({ body: request.body }))
  })
  // outside the plugin, Fastify's own (lenient) compiler is untouched
  a.post('/lenient', { schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) } }, async (request) => ({ body: request.body }))
  return a
}

describe('strict route schemas', () => {
  it('an unknown field is a GH_ERR_BAD_REQUEST naming the field, not silently dropped', async () => {
    const a = await app()
    const r = await a.inject({ method: 'POST', url: '/strict', payload: { n: 1, extra: true } })
    expect(r.json()).toEqual({ ours: true, code: 'GH_ERR_BAD_REQUEST', message: 'extra: unknown field' })
    await a.close()
  })

  it('types are not coerced: "1" is not an integer', async () => {
    const a = await app()
    const r = await a.inject({ method: 'POST', url: '/strict', payload: { n: '1' } })
    expect(r.json()).toMatchObject({ code: 'GH_ERR_BAD_REQUEST', message: 'n: must be integer' })
    await a.close()
  })

  it('a valid body reaches the handler unchanged', async () => {
    const a = await app()
    const r = await a.inject({ method: 'POST', url: '/strict', payload: { n: 1, s: 'x' } })
    expect(r.json()).toEqual({ body: { n: 1, s: 'x' } })
    await a.close()
  })

  it('the strict compiler stays inside its plugin', async () => {
    const a = await app()
    const r = await a.inject({ method: 'POST', url: '/lenient', payload: { n: 1, extra: true } })
    expect(r.json()).toEqual({ body: { n: 1 } })
    await a.close()
  })
})

describe('the schemas strictAjv compiles (it does not check them against the meta-schema itself)', () => {
  const meta = new Ajv({ strict: false })

  it('the configuration schema and every route schema are valid JSON Schema', () => {
    for (const [name, schema] of Object.entries({ ConfigSchema, ...adminSchemas, ...authSchemas })) {
      expect(meta.validateSchema(schema), `${name}: ${meta.errorsText()}`).toBe(true)
    }
  })

  it('a schema with a mistyped keyword value fails the same check', () => {
    expect(meta.validateSchema({ type: 'object', properties: { name: { type: 'string', minLength: 'one' } } })).toBe(false)
  })
})
