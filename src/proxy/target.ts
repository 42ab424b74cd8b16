// Which Ollama host a proxied request goes to. The proxy asks; the gateway's fleet answers (one host,
// or several chosen by model, load and health). Defined here, where it is used, so the proxy knows
// nothing of how hosts are chosen.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Upstream } from './upstream.js'

/** How a finished request on a host counts towards that host's health. */
export type LeaseOutcome = 'success' | 'failure' | 'neutral'

/** A request's claim on one host; released exactly once when the request is done with that host. */
export interface HostLease {
  name: string
  upstream: Upstream
  release: (outcome: LeaseOutcome, reason?: string) => void
}

export interface UpstreamTargets {
  /**
   * The host for the request's first attempt; null when the client hung up while it waited. Throws
   * the client-facing error when there is none (no host has the model, every candidate is busy).
   */
  first: (request: FastifyRequest, reply: FastifyReply, signal: AbortSignal) => Promise<HostLease | null>
  /** Another host after the ones in `tried` failed before any byte reached the client; null when none. */
  retry: (request: FastifyRequest, tried: ReadonlySet<string>, signal: AbortSignal) => Promise<HostLease | null>
  /** The host answered 404 for the request's model, which it listed: its model list is re-read. */
  modelMissing: (request: FastifyRequest, host: string) => void
  /**
   * For list routes (/api/tags, /api/ps, /v1/models) with several hosts: a lease on every healthy
   * host, whose lists are merged. Null: one host, forwarded as it is.
   */
  listHosts: (request: FastifyRequest) => Promise<HostLease[] | null>
  /**
   * For model management with several hosts and no target header: every host the request goes to.
   * Null: one host (the target header's, or the only one), forwarded as it is.
   */
  fanOutHosts: (request: FastifyRequest) => Promise<HostLease[] | null>
}

/** One fixed host: what a gateway with a single upstream (and the unit tests) use. */
export function singleTarget (upstream: Upstream, name = 'default'): UpstreamTargets {
  const lease = (): HostLease => ({ name, upstream, release: () => {} })
  return {
    first: async () => lease(),
    retry: async () => null,
    modelMissing: () => {},
    listHosts: async () => null,
    fanOutHosts: async () => null
  }
}
