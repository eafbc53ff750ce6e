/** Membership rows present in version `n`: added at or before it, not yet removed by it. */
export function inVersion(n: number) {
  return {
    versionAdded: { lte: n },
    OR: [{ versionRemoved: null }, { versionRemoved: { gt: n } }],
  };
}
