import type { Remote } from '@cistern/db';
import { proxySettings } from './proxy-settings.ts';

/** A stored remote as it may be shown: no secret, only whether each is set; legacy proxy credentials split off the URL. */
export type RemoteView = Omit<Remote, 'passwordEncrypted' | 'proxyPasswordEncrypted'> & {
  passwordSet: boolean;
  proxyPasswordSet: boolean;
};

/** The view of a stored remote. */
export function viewRemote(row: Remote): RemoteView {
  const { passwordEncrypted, proxyPasswordEncrypted, ...fields } = row;
  const { proxyPassword, ...proxy } = proxySettings(row);
  return {
    ...fields,
    ...proxy,
    passwordSet: passwordEncrypted !== null,
    proxyPasswordSet: proxyPasswordEncrypted !== null || proxyPassword !== undefined,
  };
}
