// The policy model shared by the admission webhooks, `fedmesh policy explain` and the agent: FederatedNetworkPolicy
// types and CRD, and NetworkPolicy | FederatedNetworkPolicy -> NormalizedPolicy (model.ts) with diagnostics.

export { addressInCidr, type Cidr, cidrContains, formatCidr, parseCidr } from './cidr.js';
export { compileFederatedNetworkPolicy } from './compile-fnp.js';
export {
  type CompileOptions,
  compileNetworkPolicy,
  type NetworkPolicyObject,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicySpec,
} from './compile-network-policy.js';
export { type Diagnostic, formatDiagnostic } from './diagnostics.js';
export { fnpCrd } from './fnp-crd.js';
export * from './fnp-types.js';
export {
  decidingRule,
  type MeshFacts,
  type PolicyEndpoint,
  peerAdmitsLocation,
  peerSelectsEndpoint,
  policyAppliesTo,
  ruleSelectsEndpoint,
  withClusterLabel,
} from './match.js';
export * from './model.js';
export { isPlainNetworkPolicy } from './plain-network-policy.js';
export type { PolicyCompilation } from './result.js';
