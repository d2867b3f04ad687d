/** Who made a request, after authentication. */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export const anonymousUser: UserInfo = {
  username: 'system:anonymous',
  groups: ['system:unauthenticated'],
  extra: {},
};

/** AUTHN-06: every authenticated user is in system:authenticated (the aggregator's own calls carry no groups). */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.groups.includes('system:authenticated') || u.groups.includes('system:unauthenticated')) return u;
  return { ...u, groups: [...u.groups, 'system:authenticated'] };
}
