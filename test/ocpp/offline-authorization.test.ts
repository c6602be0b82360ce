import t from 'tap';
import { offlineAuthorization, type OfflineCase } from '../../firmware/ocpp/authorize.js';

const base: OfflineCase = { idTag: 'CARD', fixedIdTag: '', local: null, localAuthorizeOffline: true, allowOfflineTxForUnknownId: false };

t.test('offline authorisation (CONTRACT §5) as a table', async (t) => {
  const rows: Array<[string, Partial<OfflineCase>, string]> = [
    ['the fixed idTag is authorised, known or not', { idTag: 'FIXED', fixedIdTag: 'FIXED' }, 'Accepted'],
    ['the fixed idTag even when the list blocks it', { idTag: 'FIXED', fixedIdTag: 'FIXED', local: { status: 'Blocked' } }, 'Accepted'],
    ['a known accepted tag with LocalAuthorizeOffline', { local: { status: 'Accepted' } }, 'Accepted'],
    ['a known accepted tag without LocalAuthorizeOffline', { local: { status: 'Accepted' }, localAuthorizeOffline: false }, 'Invalid'],
    ['a known blocked tag stays blocked', { local: { status: 'Blocked' } }, 'Blocked'],
    [
      'a known expired tag stays expired, whatever the unknown rule',
      { local: { status: 'Expired' }, allowOfflineTxForUnknownId: true },
      'Expired',
    ],
    ['an unknown tag with AllowOfflineTxForUnknownId', { allowOfflineTxForUnknownId: true }, 'Accepted'],
    ['an unknown tag without it (the default)', {}, 'Invalid'],
    ['another tag than the fixed one follows the rules', { idTag: 'OTHER', fixedIdTag: 'FIXED' }, 'Invalid'],
  ];
  for (const [what, change, status] of rows) t.equal(offlineAuthorization({ ...base, ...change }).status, status, what);
});

t.test('a known accepted tag keeps its group (parentIdTag) offline', async (t) => {
  const info = offlineAuthorization({ ...base, local: { status: 'Accepted', parentIdTag: 'FLEET' } });
  t.same(info, { status: 'Accepted', parentIdTag: 'FLEET' });
});
