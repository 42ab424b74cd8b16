import { createSharedState } from '../../../src/shared-state/index.js'
import { sharedStateContractTests } from './contract.js'

sharedStateContractTests('memory', async (prefix) => createSharedState({ backend: 'memory', prefix }), { shared: false })
