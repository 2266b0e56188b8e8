import { allowsUnverifiedData } from '../../cli/training-options';

/* ML_TRAINER_ALLOW_UNVERIFIED_DATA=1 is --allow-unverified-data for every command that trains (serve's workers inherit it). */
describe('ML_TRAINER_ALLOW_UNVERIFIED_DATA', () => {
  it('1 or true allows, 0, false or unset does not; the flag wins', () => {
    expect(allowsUnverifiedData({}, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: '1' })).toBe(true);
    expect(allowsUnverifiedData({}, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: 'true' })).toBe(true);
    expect(allowsUnverifiedData({}, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: '0' })).toBe(false);
    expect(allowsUnverifiedData({}, {})).toBe(false);
    expect(allowsUnverifiedData({ 'allow-unverified-data': true }, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: '0' })).toBe(true);
  });

  it('any other value is a usage error naming it and the fix', () => {
    expect(() => allowsUnverifiedData({}, { ML_TRAINER_ALLOW_UNVERIFIED_DATA: 'yes please' })).toThrow(
      'ML_TRAINER_ALLOW_UNVERIFIED_DATA must be 1 or 0, got "yes please"; unset it to use only files that match the official checksums',
    );
  });
});
