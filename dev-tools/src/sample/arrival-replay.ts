import { todayInLagos } from '@hub/schemas';
import type { SampleEvent } from './events.ts';
import {
  addCompletedDelink,
  addRecycleDate,
  deriveState,
  type ExpectedState,
  emptyFacts,
  type TruthFacts,
} from './expected.ts';

/**
 * A literal reading of docs/state-model.md's stored-fact rules, applied to deliveries in arrival
 * order as the state machine sees them (tokens, dates as strings). Tests compare it with the
 * ground-truth oracle: if a late or duplicate delivery, or another interleaving of the topics,
 * could change the answer, they disagree.
 */
export class Replay {
  private readonly facts = new Map<string, TruthFacts & { deliveries: number }>();

  constructor(private readonly allocatedOf: (msisdn: string) => string) {}

  private factsOf(msisdn: string): TruthFacts & { deliveries: number } {
    let f = this.facts.get(msisdn);
    if (!f) {
      f = { ...emptyFacts(this.allocatedOf(msisdn)), deliveries: 0 };
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
        if (v.status === 'CHURNED' || v.status === 'REASSIGNED') addRecycleDate(f, v.occurrenceDate);
        return;
      }
      case 'nin-linkage': {
        const v = event.value;
        if (v.action === 'LINK')
          f.nins.set(v.ninToken, { linkDate: v.linkDate, unlinked: false, holderNin: null });
        else {
          const l = f.nins.get(v.ninToken);
          if (l) l.unlinked = true;
        }
        return;
      }
      case 'bvn-linkage': {
        const v = event.value;
        if (v.action === 'LINK') {
          f.bvns.set(v.bvnToken, { linkDate: v.linkDate, unlinked: false, holderNin: v.holderNinToken });
        } else {
          const l = f.bvns.get(v.bvnToken);
          if (l) l.unlinked = true;
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
        // Only the fact is kept; which linkages it clears is decided from the dates in state().
        if (v.action === 'COMPLETED') addCompletedDelink(f, todayInLagos(v.occurredAt), v.scope);
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
