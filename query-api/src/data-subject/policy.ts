import { RESPONSE_DAYS } from './service.ts';

/**
 * The hub's privacy policy, versioned: a change is a new version and date, so an organisation can
 * tell which text it agreed to. Served as JSON and, for browsers, as a page.
 */
export const PRIVACY_POLICY = {
  version: '1.1.0',
  effective_from: '2026-12-02',
  controller: 'The MSISDN identity-risk hub operator',
  contact: { email: 'privacy@hub.example.ng', data_protection_officer: 'dpo@hub.example.ng' },
  law: ['Nigeria Data Protection Regulation 2019 (NDPR)', 'Nigeria Data Protection Act 2023 (NDPA)'],
  purposes: [
    {
      purpose: 'Fraud prevention on recycled and swapped numbers',
      description:
        'Telling banks and fintechs whether a number is safe to trust for a person right now (status, recycling, linkages).',
      lawful_basis:
        'Legitimate interest and a legal obligation (CBN and NCC directives on SIM recycling and NIN/BVN linkage)',
    },
    {
      purpose: 'Recycled-SIM clean-up (delink workflow)',
      description: 'Clearing an old owner’s NIN/BVN linkages from a number reassigned to someone else.',
      lawful_basis: 'Legal obligation',
    },
    {
      purpose: 'Audit and security of the service',
      description: 'Recording privileged actions and protecting accounts (sessions, rate limits).',
      lawful_basis: 'Legal obligation and legitimate interest',
    },
    {
      purpose: 'Product e-mails and usage analytics',
      description: 'Only with the account holder’s consent, which can be withdrawn at any time.',
      lawful_basis: 'Consent',
    },
  ],
  categories: [
    {
      category: 'Subscriber identity linkages',
      held_as:
        'NIN, BVN and NUBAN as keyed tokens (HMAC) and masked forms (last 4 digits); never the raw numbers',
    },
    {
      category: 'Number status',
      held_as: 'Operator status events (churn, swap, barring, reassignment) and their dates',
    },
    {
      category: 'Verification records',
      held_as: 'Which organisation checked which number, when, and the result',
    },
    {
      category: 'Account holders',
      held_as: 'Name, e-mail, role, organisation, password hash, API key metadata, session revocations',
    },
    {
      category: 'Audit trail',
      held_as:
        'Actor id, action, target, outcome and time of privileged actions; e-mail addresses only as a keyed hash (pseudonym)',
    },
  ],
  retention: [
    {
      store: 'Kafka fact topics (status, linkages, delink, verifications, accounts, data-subject)',
      retention: 'kept: the system of record; erasures are themselves events every projection applies',
    },
    { store: 'Kafka dead-letter topics', retention: '30 days' },
    { store: 'Redis state projection', retention: 'the current state only; rebuilt from Kafka' },
    {
      store: 'ClickHouse raw events and state changes',
      retention: '7 years, dropped by month (retention job)',
    },
    { store: 'ClickHouse verification records', retention: '2 years, dropped by month (retention job)' },
    { store: 'ClickHouse audit trail', retention: '7 years, dropped by month (retention job)' },
    { store: 'Sessions', retention: 'access tokens 15 minutes, refresh tokens 7 days' },
  ],
  recipients: [
    'Banks and fintechs verifying a number (statuses, masked linkages, scores: never raw identifiers)',
    'Telecom operators (their own numbers)',
    'NIMC and NIBSS (corroboration and delink requests, by token or by the identifiers they already hold)',
    'The regulator, on a lawful request',
  ],
  rights: {
    how: 'Account holders use /api/v1/data-subject (my-data, delete-my-data, consent). Subscribers ask their bank, operator or the hub’s desk, who file a request at /api/v1/data-subject/access-request.',
    types: ['ACCESS', 'RECTIFICATION', 'ERASURE', 'OBJECTION'],
    response_days: RESPONSE_DAYS,
  },
} as const;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

export function privacyPolicyHtml(): string {
  const p = PRIVACY_POLICY;
  const rows = (items: readonly string[][]) =>
    items.map((cells) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Privacy policy ${escapeHtml(p.version)}</title></head><body>
<h1>Privacy policy</h1><p>Version ${escapeHtml(p.version)}, effective ${escapeHtml(p.effective_from)}. ${escapeHtml(p.controller)}. Contact: ${escapeHtml(p.contact.email)}.</p>
<h2>Purposes and lawful bases</h2><table>${rows(p.purposes.map((x) => [x.purpose, x.description, x.lawful_basis]))}</table>
<h2>Data held</h2><table>${rows(p.categories.map((x) => [x.category, x.held_as]))}</table>
<h2>Retention</h2><table>${rows(p.retention.map((x) => [x.store, x.retention]))}</table>
<h2>Recipients</h2><ul>${p.recipients.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>
<h2>Your rights</h2><p>${escapeHtml(p.rights.how)} Requests are answered within ${p.rights.response_days} days.</p>
</body></html>`;
}
