import type { District } from '../district/district.schema.js';
import type { Classification } from './classifier.js';
import type { PlaceMatch, Urgency } from './extract.js';

/**
 * Routing: the classification, place and urgency of a case become a
 * decision — dispatch to the lead bureau with its co-handlers and the local
 * jurisdiction, transfer to 12345, or hold for a dispatcher (triage).
 */

export type AssignmentRole = 'lead' | 'co' | 'jurisdiction';

export interface PlannedAssignment {
  unit: string;
  role: AssignmentRole;
}

export type TriageReason = 'no_rule_matched' | 'low_confidence' | 'unknown_type';

export type RoutingDecision =
  | {
      outcome: 'dispatch' | 'transfer';
      type: string;
      assignments: PlannedAssignment[];
      flags: string[];
    }
  | { outcome: 'triage'; type: string | null; reason: TriageReason; flags: string[] };

/**
 * A person's choice of lead bureau (a hotline operator's correction) in
 * place of the routing table's: the chosen bureau leads, the table's
 * co-handlers and the jurisdiction stay, the table's lead is dropped. A
 * triage or a transfer is left as it is.
 */
export function withLead(decision: RoutingDecision, lead: string | null): RoutingDecision {
  if (!lead || decision.outcome !== 'dispatch') return decision;
  const tableLead = decision.assignments.find((a) => a.role === 'lead')?.unit;
  const rest = decision.assignments.filter((a) => a.role !== 'lead' && a.unit !== lead && a.unit !== tableLead);
  return { ...decision, assignments: [{ unit: lead, role: 'lead' }, ...rest] };
}

export function decideRoute(
  district: District,
  classification: Classification,
  place: PlaceMatch | null,
  urgency: Urgency,
): RoutingDecision {
  const flags: string[] = [];
  if (!place) flags.push('place_unknown');
  if (urgency.urgent) flags.push('urgent');
  const type = classification.type;
  if (!type) return { outcome: 'triage', type: null, reason: 'no_rule_matched', flags };
  const route = district.routing[type];
  if (!route) return { outcome: 'triage', type, reason: 'unknown_type', flags };
  if (classification.confidence < district.file.classifier.minConfidence) {
    return { outcome: 'triage', type, reason: 'low_confidence', flags };
  }
  if (route.transfer) {
    return { outcome: 'transfer', type, assignments: [{ unit: route.lead, role: 'lead' }], flags };
  }
  const assignments: PlannedAssignment[] = [{ unit: route.lead, role: 'lead' }];
  for (const co of route.co) assignments.push({ unit: co, role: 'co' });
  if (place && !assignments.some((a) => a.unit === place.jurisdiction)) {
    assignments.push({ unit: place.jurisdiction, role: 'jurisdiction' });
  }
  return { outcome: 'dispatch', type, assignments, flags };
}
