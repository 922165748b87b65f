// The model lives with the protocol that parses it (the lowest layer), so
// state/ and protocol/ can use it without importing upwards; lb/ code keeps
// importing it from here.
export * from '../protocol/libra/model.js';
