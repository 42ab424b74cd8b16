import { createSharedState } from '../../../src/cluster-state/index.js'
import { sharedStateContractTests } from './contract.js'

sharedStateContractTests('memory', async (prefix) => createSharedState({ backend: 'memory', prefix }), { shared: false })
