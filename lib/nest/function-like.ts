/**
 * What Nest types handlers (`ExecutionContext.getHandler()`) and classes as. One alias, so that
 * the lint rule against the broad `Function` type is waived in one place.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type FunctionLike = Function;
