// The detector registry: which detectors serve each configured entity, in priority order (when two
// matches start at the same place the longer wins, then the one listed first here).
import { creditCardDetector } from './credit-card.js'
import { customDetector, type CustomEntity } from './custom.js'
import { emailDetector } from './email.js'
import { ibanDetector } from './iban.js'
import { ipv4Detector } from './ipv4.js'
import { phoneDetector } from './phone.js'
import { awsKeyDetector, jwtDetector, privateKeyDetector, tokenPrefixDetector } from './secret.js'
import { ssnDetector } from './ssn.js'
import type { Detector } from './types.js'
import { errors } from '../../errors.js'

const BUILTIN: Record<string, () => Detector[]> = {
  secret: () => [privateKeyDetector(), jwtDetector(), tokenPrefixDetector(), awsKeyDetector()],
  credit_card: () => [creditCardDetector()],
  iban: () => [ibanDetector()],
  ssn: () => [ssnDetector()],
  email: () => [emailDetector()],
  phone: () => [phoneDetector()],
  ipv4: () => [ipv4Detector()]
}

const BUILTIN_ENTITY_NAMES = Object.keys(BUILTIN)

/** Detectors for the configured entities (built-in names and custom ones), fresh instances each call. */
export function buildDetectors (entities: readonly string[], custom: readonly CustomEntity[]): Detector[] {
  const out: Detector[] = []
  const customByName = new Map(custom.map((c) => [c.name, c]))
  // built-ins in registry order, so priority does not depend on the order of the config list
  for (const name of BUILTIN_ENTITY_NAMES) if (entities.includes(name)) out.push(...(BUILTIN[name] as () => Detector[])())
  for (const name of entities) {
    if (name in BUILTIN) continue
    if (!customByName.has(name)) throw new errors.MASKING_UNKNOWN_ENTITY(name)
  }
  // custom entities are always on when defined
  for (const c of custom) out.push(customDetector(c))
  return out
}
