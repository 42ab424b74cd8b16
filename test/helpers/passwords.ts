// Password hashing for tests whose subject is not hashing: argon2id at its smallest cost (8 KiB,
// one pass), about a hundred times cheaper than the production parameters. Tests of hashing itself
// (test/unit/auth/passwords.test.ts) and of its timing use createPasswordHasher() unchanged.
import { createPasswordHasher, type PasswordHasher } from '../../src/auth/passwords.js'

export const cheapPasswords: PasswordHasher = createPasswordHasher({ algorithm: 2, memoryCost: 8, timeCost: 1, parallelism: 1 })
