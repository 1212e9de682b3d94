export const LW_VERSION = '0.1.0';
