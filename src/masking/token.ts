// Mask tokens: [MASKED_<TYPE>_<8 hex>], the hex being the first 32 bits of HMAC-SHA256 over the
// entity name and the value's canonical form, under a deployment key. The same value gives the
// same token within a deployment (so a reader can tell repeats apart); without the key it cannot
// be reversed or confirmed by guessing.
import { createHmac } from 'node:crypto'

export type Tokenizer = (entity: string, canonicalValue: string) => string

export function createTokenizer (key: Buffer): Tokenizer {
  if (key.length < 16) throw new RangeError('masking key must be at least 16 bytes')
  const k = Buffer.from(key)
  return (entity, value) => {
    const hex = createHmac('sha256', k).update(entity).update('\0').update(value).digest('hex').slice(0, 8)
    return `[MASKED_${entity.toUpperCase()}_${hex}]`
  }
}
