import type { SampleEvent } from './events.ts';
import { deriveState, type ExpectedState, type TruthFacts } from './expected.ts';

/**
 * A literal reading of docs/state-model.md's stored-fact rules, applied to deliveries in arrival
 * order as the state machine sees them (tokens, dates as strings). Tests compare it with the
 * ground-truth oracle: if a late or duplicate delivery could change the answer, they disagree.
 */
export class Replay {
  private readonly facts = new Map<string, TruthFacts & { deliveries: number }>();

  constructor(private readonly allocatedOf: (msisdn: string) => string) {}

  private factsOf(msisdn: string): TruthFacts & { deliveries: number } {
    let f = this.facts.get(msisdn);
    if (!f) {
      f = {
        operator: this.allocatedOf(msisdn),
        latestStatus: null,
        lastDate: {},
        nins: new Map(),
        bvns: new Map(),
        openDelink: null,
        deliveries: 0,
      };
      this.facts.set(msisdn, f);
    }
    return f;
  }

  apply(event: SampleEvent): void {
    const f = this.factsOf(event.msisdn);
    f.deliveries++;
    switch (event.kind) {
      case 'status-update': {
        const v = event.value;
        // Same date replaces (later arrival wins); an older date is late and only feeds recency.
        if (f.latestStatus === null || v.occurrenceDate >= f.latestStatus.day) {
          f.latestStatus = { status: v.status, day: v.occurrenceDate, reassignmentDate: v.reassignmentDate };
          f.operator = v.operator;
        }
        if (v.status === 'SWAPPED' || v.status === 'CHURNED' || v.status === 'REASSIGNED') {
          const prev = f.lastDate[v.status];
          if (prev === undefined || v.occurrenceDate > prev) f.lastDate[v.status] = v.occurrenceDate;
        }
        return;
      }
      case 'nin-linkage': {
        const v = event.value;
        if (v.action === 'LINK')
          f.nins.set(v.ninToken, { linkDate: v.linkDate, active: true, holderNin: null });
        else {
          const l = f.nins.get(v.ninToken);
          if (l) l.active = false;
        }
        return;
      }
      case 'bvn-linkage': {
        const v = event.value;
        if (v.action === 'LINK') {
          f.bvns.set(v.bvnToken, { linkDate: v.linkDate, active: true, holderNin: v.holderNinToken });
        } else {
          const l = f.bvns.get(v.bvnToken);
          if (l) l.active = false;
        }
        return;
      }
      case 'delink': {
        const v = event.value;
        if (v.action === 'REQUESTED' || v.action === 'APPROVED') {
          f.openDelink = { requestId: v.requestId, action: v.action };
          return;
        }
        if (f.openDelink?.requestId === v.requestId) f.openDelink = null;
        if (v.action !== 'COMPLETED') return;
        const dates = [f.lastDate.CHURNED, f.lastDate.REASSIGNED].filter((d): d is string => d !== undefined);
        if (dates.length === 0) return;
        const recycle = dates.sort()[dates.length - 1] ?? '';
        for (const [scope, links] of [
          ['NIN', f.nins],
          ['BVN', f.bvns],
        ] as const) {
          if (v.scope !== 'ALL' && v.scope !== scope) continue;
          for (const l of links.values()) if (l.active && l.linkDate < recycle) l.active = false;
        }
        return;
      }
    }
  }

  state(msisdn: string): ExpectedState {
    const f = this.factsOf(msisdn);
    // Facts are already keyed by token, so "tokenising" is the identity here.
    return deriveState(msisdn, f, (_kind, token) => token, f.deliveries);
  }
}
