// Two replicas (two detectors, two shared-state clients) over one Redis count together: a spray
// spread across them reaches the threshold once and raises exactly one alert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildConfig } from '../../../src/config/load.js'
import { createDetector } from '../../../src/detection/detector.js'
import { createSharedState, type SharedState } from '../../../src/cluster-state/index.js'
import type { AuditInput } from '../../../src/audit/types.js'
import { manualClock } from '../../helpers/clock.js'
import { deletePrefix, findRedis, uniquePrefix } from '../cluster-state/redis-env.js'

const url = await findRedis()
const prefix = uniquePrefix('detect')
const states: SharedState[] = []
beforeAll(() => {
  if (url === null) return
  states.push(createSharedState({ redisUrl: url, prefix }), createSharedState({ redisUrl: url, prefix }))
})
afterAll(async () => {
  for (const s of states) await s.close()
  if (url !== null) await deletePrefix(url, prefix)
})

describe.skipIf(url === null)('detection across replicas (Redis)', () => {
  it('a spray split between two replicas raises one alert', async () => {
    const config = buildConfig({ detection: { passwordSpraying: { distinctUsers: 4, windowSeconds: 60 } } }, '/tmp').detection
    const clock = manualClock()
    const alerts: AuditInput[] = []
    const replicas = states.map((sharedState) => createDetector({ config, sharedState, clock, emit: (e) => alerts.push(e) }))
    for (let i = 0; i < 12; i++) {
      const d = replicas[i % 2] as (typeof replicas)[number]
      d.observe({ action: 'login', outcome: 'failure', userName: `user${i % 6}`, sourceIp: '198.51.100.77', reason: 'bad_password' })
      await d.idle()
    }
    expect(alerts.filter((a) => a.reason === 'password_spraying')).toEqual([
      expect.objectContaining({ sourceIp: '198.51.100.77', detection: { count: 4, windowSeconds: 60 } })
    ])
  })
})
