export * from './codec.ts';
export * from './contract.ts';
export * from './dates.ts';
export * from './events.ts';
export * from './http/tirms.ts';
export * from './identity-token.ts';
export * from './msisdn.ts';
export * from './operators.ts';
