Feature: Business IDs are read leniently and checked strictly
  As an accountant whose invoices must name the right company
  I want a customer's business ID (Y-tunnus) accepted in its common written forms but refused when its check digit is wrong
  so that Procountor never gets a customer under a wrong or garbled business ID

  Background:
    Given the organization uses the Procountor integration

  Scenario Outline: A usable business ID reaches Procountor in its standard form
    Given a customer "Testi Oy" whose business ID is entered as <as entered>
    When the integration runs
    Then Procountor has one customer "Testi Oy" with business ID "<standard form>"

    Examples: valid as they are
      | as entered  | standard form |
      | "0112038-9" | 0112038-9     |
      | "1572860-0" | 1572860-0     |
      | "2077474-0" | 2077474-0     |

    Examples: written loosely
      | as entered    | standard form |
      | " 0112038-9 " | 0112038-9     |
      | "FI01120389"  | 0112038-9     |
      | "01120389"    | 0112038-9     |
      | "123456-2"    | 0123456-2     |

  Scenario Outline: An unusable business ID keeps the customer in Spotilla only, with the reason
    Given a customer "Testi Oy" whose business ID is entered as <as entered>
    When the integration runs
    Then Procountor has no partners
    And customer "Testi Oy" is held back because <reason>

    Examples: wrong check digit
      | as entered  | reason                  |
      | "2077474-1" | BUSINESS_ID_CHECK_DIGIT |
      | "1234567-8" | BUSINESS_ID_CHECK_DIGIT |
      | "1234568-1" | BUSINESS_ID_CHECK_DIGIT |
      | "1234568-0" | BUSINESS_ID_CHECK_DIGIT |

    Examples: not a business ID at all
      | as entered   | reason                |
      | "ABC"        | BUSINESS_ID_MALFORMED |
      | "12345678-9" | BUSINESS_ID_MALFORMED |

    Examples: missing
      | as entered | reason              |
      | ""         | BUSINESS_ID_MISSING |
      | "   "      | BUSINESS_ID_MISSING |
      | nothing    | BUSINESS_ID_MISSING |

  Scenario: The reason for a wrong check digit names the business ID to check
    Given a customer "Testi Oy" whose business ID is entered as "2077474-1"
    When the integration runs
    Then customer "Testi Oy" is held back because BUSINESS_ID_CHECK_DIGIT
    And the reason says "The customer's business ID 2077474-1 has a wrong check digit; check it against the trade register."
