import { startAcr } from './acr.ts';
import type { RegistryContent } from './content.ts';
import { startDockerHub } from './docker-hub.ts';
import { startEcr } from './ecr.ts';
import { startGcr } from './gcr.ts';
import { startGhcr } from './ghcr.ts';
import { startHarbor } from './harbor.ts';
import { startK8s } from './k8s.ts';
import type { ZooMember } from './member.ts';
import { startQuay } from './quay.ts';

export * from './acr.ts';
export * from './bearer.ts';
export * from './content.ts';
export * from './corpus.ts';
export * from './docker-hub.ts';
export * from './ecr.ts';
export * from './gcr.ts';
export * from './ghcr.ts';
export * from './harbor.ts';
export * from './k8s.ts';
export * from './member.ts';
export * from './origin.ts';
export * from './quay.ts';
export * from './registry.ts';
export * from './storage.ts';
export * from './token-registry.ts';

/** Every member of the zoo, by name, each started on its own 127.0.0.1 ports. */
export const ZOO = {
  'docker-hub': startDockerHub,
  ghcr: startGhcr,
  quay: startQuay,
  ecr: startEcr,
  k8s: startK8s,
  gcr: startGcr,
  harbor: startHarbor,
  acr: startAcr,
} satisfies Record<string, (content: RegistryContent) => Promise<ZooMember>>;

export type ZooMemberName = keyof typeof ZOO;
