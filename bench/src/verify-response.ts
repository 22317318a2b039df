/** A verify answer of the real one's size: what the ceiling and floor servers send. */
export const VERIFY_RESPONSE = JSON.stringify({
  status: 'Success',
  data: {
    status: 'NORMAL',
    requestId: '00000000-0000-4000-8000-000000000000',
    verificationStatus: 'VERIFIED',
    reassignmentDate: null,
    verificationTimestamp: '2025-09-09T10:37:33.000Z',
    occurrenceOfStatusDate: '2025-09-09',
    mobileNetwork: 'MTN',
    msisdn: '08031234567',
    errorMessage: null,
  },
  statusCode: '200',
});
