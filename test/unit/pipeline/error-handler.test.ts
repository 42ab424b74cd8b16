import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { errorHandler } from '../../../src/pipeline/error-handler.js'
import { errors } from '../../../src/errors.js'

async function replyTo (err: Error, url = '/x') {
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  app.get('/x', async () => { throw err })
  app.get('/v1/x', async () => { throw err })
  const res = await app.inject({ method: 'GET', url })
  await app.close()
  return { status: res.statusCode, body: res.json() as Record<string, unknown> }
}

describe('the one error handler', () => {
  it('an error of the table keeps its status and code', async () => {
    expect(await replyTo(new errors.MODEL_FORBIDDEN('m:latest'))).toEqual({ status: 403, body: { error: 'model "m:latest" is not allowed for your role' } })
  })

  it('a look-alike code without a status is an internal error, never reply.code(undefined)', async () => {
    const r = await replyTo(Object.assign(new Error('secret detail'), { code: 'GH_ERR_SOMETHING' }))
    expect(r.status).toBe(500)
    expect(r.body).toEqual({ error: 'internal error' })
  })

  it('an internal error on /v1 carries the code GH_ERR_INTERNAL', async () => {
    const r = await replyTo(new Error('secret detail'), '/v1/x')
    expect(r.status).toBe(500)
    expect(JSON.stringify(r.body)).toContain('GH_ERR_INTERNAL')
    expect(JSON.stringify(r.body)).not.toContain('secret detail')
  })
})
