// The bodies /admin/* accepts, as JSON schemas: the route checks them and gets their types.
import { Type, type Static } from 'typebox'

const name = Type.String({ minLength: 1 })

export const AddUserBody = Type.Object({
  username: name,
  role: name,
  /** absent: a one-time password is generated and returned once */
  password: Type.Optional(name)
}, { additionalProperties: false })
export type AddUserBody = Static<typeof AddUserBody>

export const SetRoleBody = Type.Object({ role: name }, { additionalProperties: false })
export type SetRoleBody = Static<typeof SetRoleBody>

export const CreateKeyBody = Type.Object({
  name,
  role: name,
  /** a duration such as 90d, 12h or 30m; absent: the key never expires */
  expires_in: Type.Optional(name)
}, { additionalProperties: false })
export type CreateKeyBody = Static<typeof CreateKeyBody>
