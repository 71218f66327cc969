// @peculiar/x509 resolves its ASN.1 helpers through tsyringe, which needs the Reflect metadata API
// while the library loads: the polyfill must be evaluated first, so this module imports it before
// the library and every file of main/core/pki takes x509 from here, never from '@peculiar/x509'.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
