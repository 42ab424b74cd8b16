// The gateway's disposal sweep: retired keys older than store.purgeAfterDays leave the store,
// recently retired and live ones stay.
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, call, type TestGateway } from '../helpers/gateway.js'
import { manualClock } from '../helpers/clock.js'

const DAY = 86_400_000
let gw: TestGateway | undefined
afterEach(async () => { await gw?.close(); gw = undefined })

describe('retention sweep in the gateway', () => {
  it('purges a key revoked more than purgeAfterDays ago and keeps a live one', async () => {
    const now = Date.now()
    const clock = manualClock(now)
    gw = await startTestGateway({ store: { purgeAfterDays: 30 } }, { clock })
    const admin = gw.gateway.auth.userAdmin
    // a key revoked 40 days ago: the clock is set back (no timer fires), then forward again
    clock.set(now - 40 * DAY)
    const old = await admin.createKey({ name: 'old-ci', role: 'user', expiresIn: null })
    await admin.revokeKey(old.record.id)
    clock.set(now)
    const recent = await admin.createKey({ name: 'recent-ci', role: 'user', expiresIn: null })
    await admin.revokeKey(recent.record.id)
    const live = await gw.createKey('user', 'live-ci')

    const report = await gw.gateway.retention.run()
    expect(report.purged).toEqual({ sessions: 0, apiKeys: 1 })
    expect(await gw.gateway.store.getApiKey(old.record.id)).toBeNull()
    expect(await gw.gateway.store.getApiKey(recent.record.id)).not.toBeNull()
    expect((await call(gw, 'GET', '/api/tags', { anonymous: true, headers: { authorization: `Bearer ${live}` } })).status).toBe(200)
  })
})
