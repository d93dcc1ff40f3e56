import { inspect } from 'node:util';
import { expect } from '@jest/globals';
import type { Decider, NewEvent } from '@ordering/event-store';

/**
 * Checks what `thenThrows` caught beyond its class: return false, or fail an `expect`, to
 * fail the test.
 */
export type ErrorCheck<Thrown> = (error: Thrown) => boolean | void;

/**
 * Given/when/then tests for a decider: the given events are folded with `evolve` from the
 * initial state, then `decide` runs the command against that state.
 *
 * ```ts
 * const spec = deciderSpecification({ decide, evolve, initialState });
 * spec.given([placed]).when(confirm).then([confirmed]);
 * spec.given([confirmed]).when(confirm).thenNothingHappens();
 * spec.given([]).when(confirm).thenThrows(RuleBroken, (error) => error.rule === 'NOT_FOUND');
 * ```
 */
export function deciderSpecification<Command, Event extends NewEvent, State>(
  decider: Decider<Command, Event, State>,
) {
  return {
    given(events: Event[]) {
      return {
        when(command: Command) {
          // Runs in the assertion, so an error in evolve or decide fails the test where it is.
          // The state is frozen (and with it the given events it shares objects with): a decide
          // that mutates it throws instead of passing by accident.
          const run = (): Event[] =>
            decider.decide(
              command,
              deepFreeze(
                events.reduce((state, event) => decider.evolve(state, event), decider.initialState),
              ),
            );

          return {
            then(expected: Event[]): void {
              expect(run()).toEqual(expected);
            },

            thenNothingHappens(): void {
              expect(run()).toEqual([]);
            },

            thenThrows<Thrown>(
              errorClass: abstract new (...args: never[]) => Thrown,
              check?: ErrorCheck<Thrown>,
            ): void {
              let returned: Event[];
              try {
                returned = run();
              } catch (error) {
                if (!(error instanceof errorClass)) {
                  throw new Error(
                    `Expected ${errorClass.name} to be thrown, but got ${inspect(error)}`,
                    { cause: error },
                  );
                }
                if (check && check(error) === false) {
                  throw new Error(
                    `The ${errorClass.name} thrown did not pass the check: ${inspect(error)}`,
                    { cause: error },
                  );
                }
                return;
              }
              throw new Error(
                `Expected ${errorClass.name} to be thrown, but decide returned ` +
                  inspect(returned, { depth: null }),
              );
            },
          };
        },
      };
    },
  };
}

/**
 * The same given/when/then for a policy (a saga's decisions): the given events are folded into
 * the aggregate's state, then `react` says what to command when `trigger` happens, or null.
 *
 * ```ts
 * const spec = policySpecification(orderDecider, (trigger, order) => decideFulfilment(trigger, order, now));
 * spec.given([placed]).when({ type: 'StockReserved' }).then(confirmOrder);
 * spec.given([placed, confirmed]).when({ type: 'StockReserved' }).thenNothingHappens();
 * ```
 */
export function policySpecification<Trigger, Event extends NewEvent, State, Command>(
  aggregate: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  react: (trigger: Trigger, state: State) => Command | null,
) {
  return {
    given(events: Event[]) {
      return {
        when(trigger: Trigger) {
          const run = () =>
            react(
              trigger,
              deepFreeze(
                events.reduce(
                  (state, event) => aggregate.evolve(state, event),
                  aggregate.initialState,
                ),
              ),
            );
          return {
            then(expected: Command): void {
              expect(run()).toEqual(expected);
            },

            thenNothingHappens(): void {
              expect(run()).toBeNull();
            },
          };
        },
      };
    },
  };
}

function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === 'object' && value !== null && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const nested of Object.values(value)) deepFreeze(nested, seen);
  }
  return value;
}
